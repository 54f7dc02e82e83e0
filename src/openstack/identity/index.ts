/** Keystone v3: authentication, the token provider and the service catalog. */
export { authenticate, authRequestBody, parseAuthResponse, type AuthProject, type AuthResult, type AuthUser } from './keystone.js';
export { TokenProvider, type TokenProviderOptions } from './token-provider.js';
export { findEndpoint, parseCatalog, type CatalogEndpoint, type CatalogService } from './catalog.js';
