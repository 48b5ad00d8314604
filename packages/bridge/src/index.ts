export * from './rtp/classify.js';
export * from './rtp/header-ext.js';
export * from './rtp/packet-info.js';
export * from './rtp/rtcp.js';
export * from './rtp/rtp-packet.js';
export * from './rtp/seq.js';
export * from './transport/srtp.js';
export * from './transport/srtp-replay.js';
export * from './codecs/vp8.js';
export * from './cc/layers.js';
export * from './cc/constraints.js';
export * from './cc/allocator.js';
export * from './cc/layer-selector.js';
export * from './cc/munger.js';
export * from './cc/speech-activity.js';
export * from './cc/estimator.js';
export * from './channel/messages.js';
export * from './channel/bridge-channel.js';
export * from './channel/colibri-ws.js';
export * from './transport/stun.js';
export * from './stun-server.js';
export {
  buildLocalCandidates,
  candidatePriority,
  pairPriority,
  defaultHostAddresses,
  CANDIDATE_TYPE_PREFERENCE,
  MAX_LOCAL_PREFERENCE,
  type CandidateType,
  type CandidateConfig,
  type Candidate as TransportCandidate,
} from './transport/candidates.js';
export * from './transport/certificate.js';
export * from './transport/config.js';
export * from './transport/ice.js';
export * from './transport/dtls.js';
export * from './transport/udp-mux.js';
export * from './transport/endpoint-transport.js';
export * from './bridge.js';
export * from './conference.js';
export * from './endpoint.js';
export * from './source.js';
export * from './config.js';
export * from './errors.js';
export * from './types.js';
export * from './colibri/types.js';
export * from './colibri/handler.js';
export * from './colibri/medias.js';
export type { Node, NodeStats, Pipeline } from './pipeline/node.js';
export * from './service.js';
