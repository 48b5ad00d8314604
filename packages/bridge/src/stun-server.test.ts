/** The embedded STUN server over real loopback UDP. */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createStunServer, type StunServer } from './stun-server.js';
import {
  parseStunMessage,
  StunAttr,
  StunClass,
  StunMessageBuilder,
  StunType,
  verifyFingerprint,
} from './transport/stun.js';

const servers: StunServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(opts: Parameters<typeof createStunServer>[0] = {}): Promise<StunServer> {
  const s = await createStunServer({ port: 0, host: '127.0.0.1', ...opts });
  servers.push(s);
  return s;
}

async function client(): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { socket, port: socket.address().port, received };
}

function send(socket: Socket, buf: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('createStunServer', () => {
  it('answers a Binding request with XOR-MAPPED-ADDRESS = the client address and a valid FINGERPRINT', async () => {
    const s = await server();
    const c = await client();
    const tx = randomBytes(12);
    await send(c.socket, new StunMessageBuilder(StunType.BindingRequest, tx).build(), s.port);
    await waitFor(() => c.received.length === 1);
    const res = c.received[0] as Buffer;
    const msg = parseStunMessage(res);
    expect(msg).toBeDefined();
    if (msg === undefined) return;
    expect(msg.type).toBe(StunType.BindingSuccess);
    expect(msg.cls).toBe(StunClass.SuccessResponse);
    expect(Buffer.compare(msg.transactionId, tx)).toBe(0);
    expect(msg.xorMappedAddress).toEqual({ address: '127.0.0.1', port: c.port, family: 4 });
    expect(verifyFingerprint(res, msg)).toBe(true);
    expect(msg.software).toBeUndefined();
    expect(res.length).toBe(40);
    expect(s.counters.responses).toBe(1);
  });

  it('accepts a request with a FINGERPRINT and drops one with a wrong FINGERPRINT', async () => {
    const s = await server();
    const c = await client();
    const good = new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build({ fingerprint: true });
    const bad = Buffer.from(new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build({ fingerprint: true }));
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    await send(c.socket, bad, s.port);
    await send(c.socket, good, s.port);
    await waitFor(() => s.counters.received === 2 && c.received.length === 1);
    expect(s.counters.droppedMalformed).toBe(1);
    expect(parseStunMessage(c.received[0] as Buffer)?.transactionId.equals(good.subarray(8, 20))).toBe(true);
  });

  it('ignores garbage, malformed STUN, responses, indications and other methods, and counts them', async () => {
    const s = await server();
    const c = await client();
    const tx = randomBytes(12);
    await send(c.socket, Buffer.from('hello, not stun at all'), s.port);
    await send(c.socket, Buffer.alloc(3), s.port);
    const truncated = Buffer.from(new StunMessageBuilder(StunType.BindingRequest, tx).addUsername('abcd').build());
    truncated.writeUInt16BE(0x00ff, 22); // attribute longer than the message
    await send(c.socket, truncated, s.port);
    await send(c.socket, new StunMessageBuilder(StunType.BindingSuccess, tx).addXorMappedAddress('1.2.3.4', 5).build(), s.port);
    await send(c.socket, new StunMessageBuilder(StunType.BindingIndication, tx).build(), s.port);
    await send(c.socket, new StunMessageBuilder(0x0003 /* Allocate request (TURN) */, tx).build(), s.port);
    await waitFor(() => s.counters.received === 6);
    // A request after all that is still answered: nothing above broke the server.
    await send(c.socket, new StunMessageBuilder(StunType.BindingRequest, tx).build(), s.port);
    await waitFor(() => c.received.length === 1);
    expect(parseStunMessage(c.received[0] as Buffer)?.type).toBe(StunType.BindingSuccess);
    expect(s.counters).toMatchObject({
      received: 7,
      responses: 1,
      droppedNotStun: 2,
      droppedMalformed: 1,
      droppedNotBindingRequest: 3,
      droppedRateLimited: 0,
    });
  });

  it('answers an unknown comprehension-required attribute with 420 and UNKNOWN-ATTRIBUTES', async () => {
    const s = await server();
    const c = await client();
    const req = new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).addAttribute(0x7777, Buffer.alloc(4)).build();
    await send(c.socket, req, s.port);
    await waitFor(() => c.received.length === 1);
    const res = c.received[0] as Buffer;
    const msg = parseStunMessage(res);
    expect(msg?.type).toBe(StunType.BindingError);
    expect(msg?.errorCode?.code).toBe(420);
    expect(res.indexOf(Buffer.from([StunAttr.UnknownAttributes >> 8, StunAttr.UnknownAttributes & 0xff, 0, 2, 0x77, 0x77]))).toBeGreaterThan(0);
  });

  it('drops a flood from one address beyond the per-address rate', async () => {
    let t = 0;
    const s = await server({ maxRequestsPerSecondPerAddress: 5, now: () => t });
    const c = await client();
    for (let i = 0; i < 50; i++) await send(c.socket, new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build(), s.port);
    await waitFor(() => s.counters.received === 50);
    expect(s.counters.responses).toBe(5);
    expect(s.counters.droppedRateLimited).toBe(45);
    // Tokens come back with time.
    t += 1000;
    await send(c.socket, new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build(), s.port);
    await waitFor(() => s.counters.received === 51);
    expect(s.counters.responses).toBe(6);
    await waitFor(() => c.received.length === 6);
  });

  it('drops requests from new addresses when the address table is full of active ones', async () => {
    const t = 0;
    const s = await server({ maxTrackedAddresses: 1, now: () => t, host: '0.0.0.0' });
    const c = await client(); // 127.0.0.1
    const other = createSocket('udp4');
    sockets.push(other);
    await new Promise<void>((resolve) => other.bind(0, '127.0.0.2', () => resolve()));
    await send(c.socket, new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build(), s.port);
    await waitFor(() => s.counters.received === 1);
    await new Promise<void>((resolve, reject) =>
      other.send(new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build(), s.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
    await waitFor(() => s.counters.received === 2);
    expect(s.counters.responses).toBe(1);
    expect(s.counters.droppedRateLimited).toBe(1);
  });

  it('forgets a client address once its bucket has refilled (privacy: no address outlives its use)', async () => {
    let t = 0;
    const s = await server({ now: () => t });
    const c = await client();
    await send(c.socket, new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build(), s.port);
    await waitFor(() => c.received.length === 1);
    expect(s.trackedAddresses).toBe(1);
    t = 999; // not yet refilled
    await new Promise((r) => setTimeout(r, 1100));
    expect(s.trackedAddresses).toBe(1);
    t = 1000;
    await waitFor(() => s.trackedAddresses === 0, 2500);
  });

  it('close() frees the port, is idempotent, and a busy port rejects with EADDRINUSE', async () => {
    const s = await createStunServer({ port: 0, host: '127.0.0.1' });
    const port = s.port;
    await expect(createStunServer({ port, host: '127.0.0.1' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await s.close();
    await s.close();
    expect(s.port).toBe(0);
    const again = await server({ port });
    expect(again.port).toBe(port);
  });

  it('rejects bad options', async () => {
    await expect(createStunServer({ port: 70000 })).rejects.toThrow(TypeError);
    await expect(createStunServer({ port: 0, maxRequestsPerSecondPerAddress: 0 })).rejects.toThrow(TypeError);
  });
});
