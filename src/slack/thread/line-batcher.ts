import type { SerialSender } from './serial-sender.js';

/** The outcome of a rollback: its text, and the follow-up buttons that go with it. */
export interface Outcome<Button> {
  text: string;
  buttons: Button[];
}

/** Step lines gathered into one message, and the outcome when it comes with them. */
interface Batch<Button> {
  lines: string[];
  /** Characters so far (lines and their newlines). */
  length: number;
  final?: Outcome<Button> | undefined;
  release(): void;
}

/** Lines merged into one message stay well under Slack's 4 000-character advice for a message's text. */
const MAX_MERGED_CHARS = 3_500;
/** A message with buttons carries its text in a section block, which holds at most 3 000 characters. */
const SECTION_MAX_CHARS = 3_000;

/**
 * Gathers step lines into few messages. A line opens a message, which is queued with the sender at once
 * but behind a gate: the gate opens `lingerMs` later, or at once for a failure, an outcome or `release()`.
 * Until the sender reaches the message and its gate is open, every line added joins it (up to 3 500
 * characters), so lines close together, and lines that came while Slack was still taking the previous
 * message, share one message, in order. The outcome rides with the lines still gathering (usually the
 * verification) when it fits in one section with its buttons.
 */
export class LineBatcher<Button> {
  private batch: Batch<Button> | undefined;

  constructor(
    private readonly sender: SerialSender,
    /** Posts one message: the lines, then the outcome's text, with its buttons. */
    private readonly post: (text: string, final: Outcome<Button> | undefined) => Promise<unknown>,
    private readonly lingerMs: number,
  ) {}

  /** A step line; `urgent` (a failure) sends it, and the lines gathered with it, without waiting. */
  add(text: string, urgent: boolean): void {
    const open = this.batch;
    const batch = open && open.length + text.length + 1 <= MAX_MERGED_CHARS ? open : this.open();
    batch.lines.push(text);
    batch.length += text.length + 1;
    if (urgent) this.release();
  }

  /** The outcome, last in the message being gathered (or in one of its own), which then goes at once. */
  finish(final: Outcome<Button>): void {
    const open = this.batch;
    const fits = open && (final.buttons.length === 0 || open.length + final.text.length <= SECTION_MAX_CHARS);
    const batch = fits ? open : this.open();
    batch.final = final;
    this.release();
  }

  /** The message being gathered goes out as soon as the sender reaches it; later lines start a new one. */
  release(): void {
    this.batch?.release();
    this.batch = undefined;
  }

  private open(): Batch<Button> {
    this.release();
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const timer = setTimeout(openGate, this.lingerMs);
    timer.unref();
    const batch: Batch<Button> = {
      lines: [],
      length: 0,
      release: () => {
        clearTimeout(timer);
        openGate();
      },
    };
    this.batch = batch;
    this.sender.send('reply', async () => {
      await gate;
      // From here on new lines start the next message.
      if (this.batch === batch) this.batch = undefined;
      const text = [...batch.lines, ...(batch.final ? [batch.final.text] : [])].join('\n');
      await this.post(text, batch.final);
    });
    return batch;
  }
}
