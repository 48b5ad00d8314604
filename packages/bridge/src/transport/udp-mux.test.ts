import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StunMessageBuilder, StunType, type StunMessage } from './stun.js';
import { UdpMux, type MuxEndpoint } from './udp-mux.js';

const log = pino({ level: 'silent' });

class RecordingEndpoint implements MuxEndpoint {
  stun: { msg: StunMessage; ip: string; port: number }[] = [];
  data: Buffer[] = [];
  lost: string[] = [];
  handleStun(msg: StunMessage, _buf: Buffer, ip: string, port: number): void {
    this.stun.push({ msg, ip, port });
  }
  handleDatagram(buf: Buffer, len: number): void {
    this.data.push(Buffer.from(buf.subarray(0, len)));
  }
  handleRouteLost(ip: string, port: number): void {
    this.lost.push(`${ip}:${port}`);
  }
}

async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let mux: UdpMux;
let client: Socket;

beforeEach(async () => {
  mux = await UdpMux.create({ port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'], log });
  client = createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
});

afterEach(async () => {
  client.close();
  await mux.close();
});

describe('UdpMux', () => {
  it('binds port 0 to a free port and advertises it', () => {
    expect(mux.port).toBeGreaterThan(0);
    expect(mux.localCandidates()).toEqual([expect.objectContaining({ ip: '127.0.0.1', port: mux.port, type: 'host' })]);
  });

  it('routes STUN requests by the local ufrag in USERNAME and other datagrams by registered address', async () => {
    const a = new RecordingEndpoint();
    const b = new RecordingEndpoint();
    mux.registerUfrag('ufraga', a);
    mux.registerUfrag('ufragb', b);
    expect(() => mux.registerUfrag('ufraga', b)).toThrow(TypeError);
    const req = new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).addUsername('ufragb:peer').build({ fingerprint: true });
    client.send(req, mux.port, '127.0.0.1');
    await waitFor(() => b.stun.length === 1);
    expect(a.stun).toHaveLength(0);
    expect(b.stun[0]?.port).toBe(client.address().port);

    const rtp = Buffer.from([0x80, 0x60, 1, 2, 3]);
    client.send(rtp, mux.port, '127.0.0.1');
    await waitFor(() => mux.counters.dropped.unknownAddress === 1);
    mux.addRoute('127.0.0.1', client.address().port, a);
    client.send(rtp, mux.port, '127.0.0.1');
    await waitFor(() => a.data.length === 1);
    expect(a.data[0]?.equals(rtp)).toBe(true);
    // A STUN response goes by address too.
    client.send(new StunMessageBuilder(StunType.BindingSuccess, randomBytes(12)).build(), mux.port, '127.0.0.1');
    await waitFor(() => a.stun.length === 1);
    expect(mux.registrationCount).toBe(3);
  });

  it('moves an address to the endpoint that registers it last and tells the previous one', () => {
    const a = new RecordingEndpoint();
    const b = new RecordingEndpoint();
    mux.addRoute('192.0.2.1', 5000, a);
    mux.addRoute('192.0.2.1', 5000, b);
    expect(a.lost).toEqual(['192.0.2.1:5000']);
    expect(mux.routeOf('192.0.2.1', 5000)).toBe(b);
    mux.removeRoute('192.0.2.1', 5000, a); // not a's any more: no-op
    expect(mux.registrationCount).toBe(1);
    mux.removeRoute('192.0.2.1', 5000, b);
    expect(mux.registrationCount).toBe(0);
  });

  it('counts a throwing endpoint instead of crashing', async () => {
    const bad: MuxEndpoint = {
      handleStun: () => {
        throw new Error('boom');
      },
      handleDatagram: () => {
        throw new Error('boom');
      },
      handleRouteLost: () => {},
    };
    mux.addRoute('127.0.0.1', client.address().port, bad);
    client.send(Buffer.from([0x80, 0x60, 0, 0]), mux.port, '127.0.0.1');
    client.send(Buffer.from([0x80, 0x60, 0, 1]), mux.port, '127.0.0.1');
    await waitFor(() => mux.counters.dropped.handlerError === 2);
  });

  it('send() writes synchronously, so a scratch buffer can be reused right away', async () => {
    const got = new Set<number>();
    client.on('message', (m) => got.add(m.readUInt32BE(0)));
    const scratch = Buffer.alloc(200);
    let queued = 0;
    for (let i = 0; i < 50; i++) {
      scratch.writeUInt32BE(i, 0);
      if (mux.send(scratch, scratch.length, '127.0.0.1', client.address().port)) queued++;
    }
    await waitFor(() => got.size + queued >= 50);
    expect(queued).toBe(0);
    expect([...got].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(mux.counters.datagramsOut).toBe(50);
  });

  it('fails to bind a port in use', async () => {
    await expect(UdpMux.create({ port: mux.port, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'], log })).rejects.toThrow();
  });

  it('close() drops registrations and makes send a no-op', async () => {
    mux.registerUfrag('x1234', new RecordingEndpoint());
    await mux.close();
    expect(mux.registrationCount).toBe(0);
    expect(mux.send(Buffer.alloc(4), 4, '127.0.0.1', 9)).toBe(false);
    expect(() => mux.registerUfrag('y1234', new RecordingEndpoint())).toThrow();
  });
});
