/**
 * deploy/: the RBAC grants exactly what `doctor --backend k8s` checks (and so what the backend's
 * API calls need), its objects pass the Kubernetes OpenAPI schema (kubernetes-models) and kubectl
 * (a client-side dry run against the fake API server); the Dockerfile installs the claude-code
 * version the workspace pins, as the uid agentrun's Pods run as. docker is not run here (no
 * daemon on these machines): the Dockerfile is checked as text.
 */
import { loadAllYaml } from "@kubernetes/client-node"
import { execFile } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role"
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding"
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { accessByMethod, accessNeedText, kubernetesBackendAccess } from "../../packages/core/src/k8s/AccessNeeds.ts"
import { defaultSettings } from "../../packages/core/src/bootstrap/BootstrapSettings.ts"
import { kubernetesRunDefaults } from "../../packages/core/src/k8s/KubernetesRunOptions.ts"
import { type FakeKubernetes, start } from "../support/fake-k8s/FakeKubernetes.ts"
import { repoRoot } from "../e2e/support/harness.ts"

const rbacPath = join(repoRoot, "deploy/rbac.yaml")
const dockerfile = readFileSync(join(repoRoot, "deploy/Dockerfile"), "utf8")
const rbacText = readFileSync(rbacPath, "utf8")
// Wire form as kubectl reads it: client-node's loadAllYaml turns each document into its model object.
const objects = loadAllYaml(rbacText) as Array<any>

describe("deploy/rbac.yaml", () => {
  it("holds a ServiceAccount, a Role and a RoleBinding of that Role, all in one namespace", () => {
    expect(objects.map((o) => o.kind)).toEqual(["ServiceAccount", "Role", "RoleBinding"])
    const [sa, role, binding] = objects
    const namespace = role.metadata.namespace
    expect(objects.every((o) => o.metadata.namespace === namespace)).toBe(true)
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name })
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: sa.metadata.name, namespace }])
  })

  it("grants exactly the permissions doctor checks: none missing, none extra", () => {
    const role = objects[1]
    const granted = (role.rules as Array<any>).flatMap((rule) =>
      (rule.apiGroups as Array<string>).flatMap((group) =>
        (rule.resources as Array<string>).flatMap((r) =>
          (rule.verbs as Array<string>).map((verb) => {
            const [resource, subresource] = r.split("/")
            return accessNeedText(subresource === undefined ? { verb, group, resource: resource! } : { verb, group, resource: resource!, subresource })
          })
        )
      )
    )
    expect(new Set(granted).size).toBe(granted.length)
    expect([...granted].sort()).toEqual(kubernetesBackendAccess.map(accessNeedText).sort())
    // No wildcard and no cluster-wide grant sneaks in.
    expect(rbacText).not.toMatch(/"\*"|ClusterRole/)
  })

  it("grants patch on batch/jobs: cross-machine cancel annotates the Job (annotateJob), and doctor checks it", () => {
    expect(accessByMethod.annotateJob).toEqual([{ verb: "patch", group: "batch", resource: "jobs" }])
    expect(kubernetesBackendAccess.map(accessNeedText)).toContain("patch batch/jobs")
    const jobs = (objects[1].rules as Array<any>).find((r) => r.apiGroups.includes("batch") && r.resources.includes("jobs"))
    expect(jobs.verbs).toContain("patch")
  })

  it("passes the Kubernetes OpenAPI schema (kubernetes-models validators)", () => {
    const [sa, role, binding] = objects
    expect(() => new ServiceAccount(sa).validate()).not.toThrow()
    expect(() => new Role(role).validate()).not.toThrow()
    expect(() => new RoleBinding(binding).validate()).not.toThrow()
  })

  describe.skipIf(!existsSync("/usr/bin/kubectl"))("kubectl", () => {
    let fake: FakeKubernetes
    beforeAll(async () => {
      fake = await start()
    })
    afterAll(async () => {
      await fake?.close()
    })

    it("parses and maps it: kubectl apply --dry-run=client against the fake creates nothing", async () => {
      const { stdout } = await promisify(execFile)(
        "/usr/bin/kubectl",
        ["--kubeconfig", fake.kubeconfigPath, "apply", "--dry-run=client", "--validate=false", "-f", rbacPath],
        { encoding: "utf8", timeout: 30_000 }
      )
      expect(stdout).toMatch(/serviceaccount\/agentrun-supervisor created \(dry run\)/)
      expect(stdout).toMatch(/role\.rbac\.authorization\.k8s\.io\/agentrun created \(dry run\)/)
      expect(stdout).toMatch(/rolebinding\.rbac\.authorization\.k8s\.io\/agentrun created \(dry run\)/)
      expect(fake.list("roles")).toEqual([])
    })
  })
})

describe("deploy/Dockerfile", () => {
  const pinned = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { devDependencies: Record<string, string> })
    .devDependencies["@anthropic-ai/claude-code"]

  it("installs the claude-code version the workspace pins (package.json, and the managed install's)", () => {
    const arg = /^ARG CLAUDE_CODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1]
    expect(arg).toBe(pinned)
    expect(defaultSettings({}).claudeVersion).toBe(pinned)
    expect(dockerfile).toContain(`npm install --global "@anthropic-ai/claude-code@\${CLAUDE_CODE_VERSION}"`)
  })

  it("runs as the non-root uid/gid agentrun's Pods use (runAsUser), on a Node claude-code supports, with sh", () => {
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile)
    expect(user?.slice(1).map(Number)).toEqual([kubernetesRunDefaults.runAsUser, kubernetesRunDefaults.runAsUser])
    // The last USER is the image's: nothing switches back to root after it.
    expect([...dockerfile.matchAll(/^USER (.+)$/gm)].at(-1)?.[1]).toBe(`${kubernetesRunDefaults.runAsUser}:${kubernetesRunDefaults.runAsUser}`)
    const from = /^FROM node:(\d+)-(\S+)$/m.exec(dockerfile)
    const engines = (JSON.parse(readFileSync(join(repoRoot, "node_modules/@anthropic-ai/claude-code/package.json"), "utf8")) as { engines: { node: string } }).engines.node
    expect(Number(from?.[1])).toBeGreaterThanOrEqual(Number(/(\d+)/.exec(engines)?.[1]))
    // A Debian base (not distroless/scratch): /bin/sh is there for the Job's entry script.
    expect(from?.[2]).toMatch(/^(bookworm|bullseye|trixie)(-slim)?$/)
    expect(dockerfile).not.toMatch(/^(ENTRYPOINT|CMD)\b/m)
  })
})
