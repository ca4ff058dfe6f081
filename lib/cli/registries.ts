/** The CLI reads registries as the library does (lib/load/registries.ts); its errors are usage errors (exit 2). */
import { LoadedRegistry, LoadOptions, loadRegistries } from '../load/registries';
import { appCommand, checkApp } from './app-check';

export * from '../load/registries';

/**
 * The registries a command works on: those named, else the project's ports.yaml or the ports.json
 * files a PortsApp wrote; in a cdk8s project that has neither (a plain cdk8s App writes only
 * Kubernetes objects), the registries of its app, by running it as `check` does.
 */
export function projectRegistries(args: string | readonly string[] | undefined, cwd: string, options: LoadOptions = {}): LoadedRegistry[] {
  const named = typeof args === 'string' ? [args] : args ?? [];
  try {
    return loadRegistries(args, cwd, options);
  } catch (e) {
    const app = named.length === 0 ? appCommand(cwd) : undefined;
    if (!app || !/^no registry found/.test((e as Error).message)) throw e;
    return checkApp(cwd, app);
  }
}
