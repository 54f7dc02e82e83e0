/** Cloud configuration: clouds.yaml, secure.yaml, OS_* variables and flags. */
export {
  DEMO_CLOUD,
  cloudSecrets,
  describeCloud,
  isBuiltinDemo,
  protectSecrets,
  redactedAuth,
  resolveCloud,
  type ApplicationCredentialAuth,
  type CloudAuth,
  type EndpointInterface,
  type FlagOverrides,
  type PasswordAuth,
  type ResolveOptions,
  type ResolvedCloud,
  type TokenAuth,
} from './cloud.js';
export { loadCloudsConfig, type CloudsConfig, type ConfigSearch, type Env } from './cloud-files.js';
