/** Cloud configuration: clouds.yaml, secure.yaml, OS_* variables and flags. */
export { DEMO_CLOUD, isBuiltinDemo, resolveCloud } from './cloud.js';
export {
  type ApplicationCredentialAuth,
  type CloudAuth,
  type EndpointInterface,
  type FlagOverrides,
  type PasswordAuth,
  type ResolveOptions,
  type ResolvedCloud,
  type TokenAuth,
} from './cloud-types.js';
export { cloudSecrets, describeCloud, protectSecrets, redactedAuth } from './cloud-secrets.js';
export { loadCloudsConfig, type CloudsConfig, type ConfigSearch, type Env } from './cloud-files.js';
