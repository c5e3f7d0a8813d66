/**
 * A server-side WebSocket (RFC 6455) just big enough for the Kubernetes channel protocols
 * (`v4.channel.k8s.io`, `v5.channel.k8s.io`): the handshake, unmasked binary frames out, masked frames
 * in (close and ping handled, data handed to a callback).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WebSocketConnection {
  readonly protocol: string;
  send(data: Buffer): void;
  close(code?: number): void;
  onMessage(handler: (data: Buffer) => void): void;
}

/**
 * Completes the upgrade with the first of `supported` that the client offered. Answers 400 and
 * returns undefined when the client offered none of them, as the API server does.
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  supported: string[],
): WebSocketConnection | undefined {
  const key = req.headers['sec-websocket-key'];
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const protocol = supported.find((p) => offered.includes(p));
  if (typeof key !== 'string' || !protocol) {
    const body = `websocket: unsupported or missing subprotocol; offered [${offered.join(', ')}], supported [${supported.join(', ')}]`;
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return undefined;
  }
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n` +
      `Sec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );

  let closed = false;
  let messageHandler: (data: Buffer) => void = () => {};
  let pending = Buffer.alloc(0);

  const writeFrame = (opcode: number, payload: Buffer): void => {
    if (socket.destroyed) return;
    let header: Buffer;
    if (payload.length < 126) header = Buffer.from([0x80 | opcode, payload.length]);
    else if (payload.length < 0x10000) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    socket.write(Buffer.concat([header, payload]));
  };

  const connection: WebSocketConnection = {
    protocol,
    send(data) {
      if (!closed) writeFrame(0x2, data);
    },
    close(code = 1000) {
      if (closed) return;
      closed = true;
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code, 0);
      writeFrame(0x8, payload);
      // Give the client a moment to answer the close frame, then drop the TCP connection.
      setTimeout(() => socket.destroy(), 200).unref();
    },
    onMessage(handler) {
      messageHandler = handler;
    },
  };

  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const frame = parseFrame(pending);
      if (!frame) return;
      pending = pending.subarray(frame.length);
      if (frame.opcode === 0x8) {
        if (!closed) connection.close(1000);
        socket.end();
        return;
      }
      if (frame.opcode === 0x9) writeFrame(0xa, frame.payload);
      else if (frame.opcode === 0x1 || frame.opcode === 0x2 || frame.opcode === 0x0) messageHandler(frame.payload);
    }
  });
  socket.on('error', () => socket.destroy());
  return connection;
}

function parseFrame(buf: Buffer): { opcode: number; payload: Buffer; length: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = (buf[0] as number) & 0x0f;
  const masked = ((buf[1] as number) & 0x80) !== 0;
  let length = (buf[1] as number) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) {
    for (let i = 0; i < payload.length; i++)
      payload[i] = (payload[i] as number) ^ (buf[maskOffset + (i % 4)] as number);
  }
  return { opcode, payload, length: offset + length };
}
