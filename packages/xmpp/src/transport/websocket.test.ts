import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { encodeTextFrames } from './websocket.js';

interface ReceiverLike {
  on(event: 'message', cb: (data: Buffer) => void): void;
  write(chunk: Buffer, cb: (err?: Error | null) => void): void;
}
type ReceiverCtor = new (opts: { isServer: boolean }) => ReceiverLike;

describe('encodeTextFrames()', () => {
  it('produces frames that ws itself decodes back to the same messages, for all three length encodings', async () => {
    const messages = ['<a/>', 'x'.repeat(125), 'ü'.repeat(100), 'y'.repeat(70_000), '', '<presence>😀</presence>'];
    const got: string[] = [];
    // ws's own frame parser, in client mode (server frames are unmasked).
    // (ws exports its Receiver at run time; @types/ws does not declare it.)
    const { Receiver } = wsModule as unknown as { Receiver: ReceiverCtor };
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer) => got.push(data.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      receiver.write(encodeTextFrames(messages), (err?: Error | null) => (err ? reject(err) : resolve()));
    });
    expect(got).toEqual(messages);
  });
});
