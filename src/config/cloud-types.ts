/**
 * The shapes of cloud configuration: what the flags give, and the cloud
 * resolveCloud() makes of flags, environment and files.
 */

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface PasswordAuth {
  type: 'password';
  username?: string;
  userId?: string;
  password: string;
  userDomainName?: string;
  userDomainId?: string;
}

export interface ApplicationCredentialAuth {
  type: 'applicationcredential';
  id?: string;
  name?: string;
  secret: string;
  /** Owner of a credential given by name (name + user is how Keystone finds it). */
  username?: string;
  userId?: string;
  userDomainName?: string;
  userDomainId?: string;
}

export interface TokenAuth {
  type: 'token';
  token: string;
}

export type CloudAuth = PasswordAuth | ApplicationCredentialAuth | TokenAuth;

export interface ResolvedCloud {
  /** The clouds.yaml name, "environment" (OS_*) or "command-line" (flags only). */
  name: string;
  /** Keystone v3 URL, always ending in /v3 (or /v3.x). */
  authUrl: string;
  auth: CloudAuth;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  regionName: string | null;
  interface: EndpointInterface;
  /** Absolute path of a CA bundle (PEM) to verify TLS with, or null for the system CAs. */
  cacert: string | null;
  /** TLS verification off. */
  insecure: boolean;
  /** Things the user should know (old /v2.0 URL rewritten, env overriding a file value ...). */
  warnings: string[];
  /** Where it came from, e.g. "clouds.yaml (/root/.config/openstack/clouds.yaml) cloud 'lab'" or "environment (OS_*)". */
  source: string;
}

/** Cloud flags as yargs gives them (camelCased `--os-*` names). */
export interface FlagOverrides {
  osCloud?: string;
  osAuthUrl?: string;
  osAuthType?: string;
  osUsername?: string;
  osUserId?: string;
  osPassword?: string;
  osProjectName?: string;
  osTenantName?: string;
  osProjectId?: string;
  osTenantId?: string;
  osUserDomainName?: string;
  osUserDomainId?: string;
  osProjectDomainName?: string;
  osProjectDomainId?: string;
  osDomainName?: string;
  osDomainId?: string;
  osDefaultDomainName?: string;
  osDefaultDomainId?: string;
  osApplicationCredentialId?: string;
  osApplicationCredentialName?: string;
  osApplicationCredentialSecret?: string;
  osToken?: string;
  osRegionName?: string;
  osInterface?: string;
  osCacert?: string;
  osIdentityApiVersion?: string;
  insecure?: boolean;
}

export interface ResolveOptions {
  cwd?: string;
  home?: string;
  /** Defaults to /etc/openstack. */
  systemDir?: string;
}
