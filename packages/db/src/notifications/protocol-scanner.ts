/**
 * Finds NotificationResponse messages in a PostgreSQL backend → frontend byte stream.
 *
 * Why: PGlite behind pglite-socket is ONE session shared by every socket client (see
 * ../pglite.ts). When a client commits a transaction that ran `NOTIFY`, PostgreSQL writes the
 * notification into THAT client's output, not the output of the connection that ran `LISTEN`.
 * The process that hosts PGlite therefore scans every output for notifications and dispatches
 * them itself (embedded-notifications.ts).
 *
 * Messages are a type byte, an int32 length (counting itself) and a body. Only the bodies of
 * notifications ('A') are copied; everything else is skipped by count, so large query results
 * cost nothing but the scan of their headers.
 */

export interface Notification {
  readonly channel: string;
  readonly payload: string;
}

const NOTIFICATION_RESPONSE = 0x41; // 'A'
const HEADER_BYTES = 5;

export class ProtocolScanner {
  /** Bytes of a message header that straddled two chunks. */
  private header = new Uint8Array(HEADER_BYTES);
  private headerFill = 0;
  /** Body bytes of the current message still to come. */
  private remaining = 0;
  /** The body of the current notification (undefined while skipping another message). */
  private body: Uint8Array | undefined;
  private bodyFill = 0;

  private readonly onNotification: (notification: Notification) => void;

  constructor(onNotification: (notification: Notification) => void) {
    this.onNotification = onNotification;
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        if (this.body !== undefined) {
          this.body.set(chunk.subarray(offset, offset + take), this.bodyFill);
          this.bodyFill += take;
        }
        this.remaining -= take;
        offset += take;
        if (this.remaining === 0) this.finishMessage();
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - offset);
      this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
      this.headerFill += take;
      offset += take;
      if (this.headerFill < HEADER_BYTES) return;
      this.headerFill = 0;
      const type = this.header[0];
      const length = new DataView(this.header.buffer).getInt32(1);
      this.remaining = Math.max(0, length - 4);
      this.body = type === NOTIFICATION_RESPONSE ? new Uint8Array(this.remaining) : undefined;
      this.bodyFill = 0;
      if (this.remaining === 0) this.finishMessage();
    }
  }

  private finishMessage(): void {
    const body = this.body;
    this.body = undefined;
    if (body === undefined) return;
    // Body: int32 sender pid, channel (C string), payload (C string).
    const decoder = new TextDecoder();
    const channelEnd = body.indexOf(0, 4);
    const payloadEnd = body.indexOf(0, channelEnd + 1);
    if (channelEnd < 0 || payloadEnd < 0) return;
    this.onNotification({
      channel: decoder.decode(body.subarray(4, channelEnd)),
      payload: decoder.decode(body.subarray(channelEnd + 1, payloadEnd)),
    });
  }
}
