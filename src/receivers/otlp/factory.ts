import type { ReceiverFactory } from '../../component/factory.js';
import { configSchema, createDefaultConfig, unmarshal, validate, type Config } from './config.js';
import { OtlpReceiver } from './receiver.js';

export const factory: ReceiverFactory<Config> = {
  type: 'otlp',
  kind: 'receiver',
  stability: 'beta',
  description: 'Receives traces over OTLP/gRPC and OTLP/HTTP (protobuf and JSON)',
  configSchema,
  createDefaultConfig,
  unmarshal,
  validate,
  createTraces: (settings, cfg, next) => new OtlpReceiver(settings, cfg, next),
};
