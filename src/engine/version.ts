declare const __PACKAGE_VERSION__: string | undefined;

/** The package version, baked in by the build (vitest defines it too). */
export const TOOL_VERSION = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : 'dev';
