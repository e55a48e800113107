/**
 * OTLP trace codecs, in one place: protobuf (ExportTraceServiceRequest/Response, google.rpc.Status)
 * and OTLP/JSON. Decoders return `DecodedTraces` (valid spans + the count of rejected ones) and throw
 * `DecodeError` for undecodable input.
 */
export { DecodeError } from './wire.js';
export { decodeTraceRequestProto, ProtoTraces, SpanTable, keyToHex, hexToKey } from './proto-view.js';
export type { DecodedTraces } from './proto-view.js';
export {
  encodeTraceRequestProto,
  encodeTraceResponseProto,
  decodeTraceResponseProto,
  encodeRpcStatusProto,
  decodeRpcStatusProto,
  toProtoParts,
  GrpcCode,
} from './proto-encode.js';
export type { ExportTraceResponse } from './proto-encode.js';
export {
  decodeTraceRequestJson,
  encodeTraceRequestJson,
  tracesToOtlpJson,
  spanToJson,
  attributesToJson,
  anyValueToJson,
  encodeTraceResponseJson,
  decodeTraceResponseJson,
  encodeRpcStatusJson,
} from './json.js';
export type { OtlpJsonTraces, OtlpJsonResourceSpans, OtlpJsonSpan, OtlpJsonKeyValue, OtlpJsonAnyValue } from './json.js';
export { anyValueString, anyValueToPlain } from './values.js';
