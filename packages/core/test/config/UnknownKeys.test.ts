import { assert, describe, it } from "@effect/vitest"
import { unknownConfigKeys } from "../../src/config/AgentrunConfig.ts"

describe("unknownConfigKeys", () => {
  it("names misspelt keys, section by section; known keys and non-objects give none", () => {
    assert.deepStrictEqual(unknownConfigKeys({ watchdog: { stalTimeout: "5m", stallTimeout: "5m" }, stop: { grace: "1s" }, watchdogs: {} }), [
      "watchdog.stalTimeout",
      "stop.grace",
      "watchdogs"
    ])
    assert.deepStrictEqual(unknownConfigKeys({ watchdog: { enabled: true, stallTimeout: "1m", startupTimeout: "1m", busyTimeout: 0, probeGrace: "1s" }, stop: { interruptGrace: "1s", terminateGrace: "1s" } }), [])
    assert.deepStrictEqual(unknownConfigKeys([1]), [])
  })
})

describe("unknownConfigKeys: the Kubernetes keys", () => {
  it("knows backend and the kubernetes section; names a misspelt kubernetes key and toleration field, never a map's own keys", () => {
    const file = {
      backend: "k8s",
      kubernetes: {
        image: "agent:1",
        imagePullSecret: ["regcred"],
        nodeSelector: { anything: "goes" },
        labels: { "team.example/x": "a" },
        podEnv: { ANY_NAME: "1" },
        tolerations: [{ key: "k", operator: "Exists" }, { key: "k", efect: "NoSchedule" }]
      }
    }
    assert.deepStrictEqual(unknownConfigKeys(file), ["kubernetes.imagePullSecret", "kubernetes.tolerations[1].efect"])
    assert.deepStrictEqual(unknownConfigKeys({ backend: "local", kubernetes: { ttlSecondsAfterFinished: 60, annotations: {} } }), [])
  })
})
