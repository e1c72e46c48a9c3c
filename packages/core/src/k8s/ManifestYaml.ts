/**
 * A run's objects as YAML, as `run --backend k8s --dry-run` prints them: the documents kubectl
 * would take (`kubectl apply -f -`), in the order the backend creates them (Secret, then Job).
 * Written by client-node's `dumpYaml` (its serializer, generated from the Kubernetes OpenAPI
 * document, then js-yaml), so the fields are the API's own names.
 *
 * @module
 */
import { dumpYaml } from "./ClientNode.ts"
import type { RunManifests } from "./JobManifest.ts"

/**
 * The Secret and the Job as two YAML documents separated by `---`. The Secret's `data` is base64,
 * as the API (and `kubectl get -o yaml`) shows it: it holds the prompt, decodable by anyone who
 * reads the output.
 */
export const manifestsYaml = (manifests: RunManifests): string =>
  [dumpYaml(manifests.secret), dumpYaml(manifests.job)].map((doc) => doc.trimEnd()).join("\n---\n") + "\n"
