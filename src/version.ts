/** The runtime version bundles compare their `min_runtime` against. Keep in step with package.json. */
export const RUNTIME_VERSION = '0.1.0';
