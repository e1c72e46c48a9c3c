/**
 * The values of `@kubernetes/client-node` 2.0.1 the backend uses, and the only module that imports
 * any (the others import its types only, `import type`, which no bundle or runtime sees).
 *
 * Why one module: the package's main entry re-exports every generated API class and model (25 MB
 * of JavaScript, 1,000 files); importing it in a bare Node 22 took RSS from 67 to 151–158 MiB and
 * left 37 MiB of heap in use. Named exports let a bundler keep only what is reachable from these
 * names: the CLI's build (packages/cli/build.mjs) bundles this module, client-node and its
 * dependencies into a chunk of its own, loaded on the first Kubernetes operation (3.0 MB; its
 * import took RSS from 67 to 92 MiB, 12.6 MiB of heap), and the VS Code extension's bundle keeps the
 * same subset. Every model class stays (ObjectSerializer's type map names them all); of the API
 * classes, only the five below.
 *
 * A name added here is one more thing the chunk holds; the CLI's build fails if any other module
 * imports a value of client-node, so nothing reaches the full package past this list.
 *
 * @module
 */
export {
  ApiException,
  AuthorizationV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  dumpYaml,
  KubeConfig,
  Observable,
  PatchStrategy,
  VersionApi
} from "@kubernetes/client-node"
// The wrapper the package's Watch and yaml helpers decode with (it also takes kinds the generated one does not know).
export { ObjectSerializer } from "@kubernetes/client-node/dist/serializer.js"
