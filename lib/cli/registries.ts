/** The CLI reads registries as the library does (lib/load/registries.ts); its errors are usage errors (exit 2). */
export * from '../load/registries';
