import { assert, describe, it } from "@effect/vitest"
import { makeRedactor, redactedMarker } from "../../src/domain/Redaction.ts"

describe("redaction", () => {
  const r = makeRedactor({
    ANTHROPIC_API_KEY: "sk-ant-api03-abcdefghijklmnop",
    GITHUB_TOKEN: "ghp_1234567890abcdef",
    DB_PASSWORD: "hunter2hunter2",
    MY_SECRET_THING: "s3cr3t-value",
    USE_KEYCHAIN: "1",
    PATH: "/usr/bin:/bin"
  })

  it("hides values of *KEY*, *TOKEN*, *SECRET*, *PASSWORD* variables wherever they appear", () => {
    const text = "key=sk-ant-api03-abcdefghijklmnop gh=ghp_1234567890abcdef pw=hunter2hunter2 x=s3cr3t-value"
    const out = r.redact(text)
    for (const secret of ["sk-ant-api03", "ghp_1234567890abcdef", "hunter2hunter2", "s3cr3t-value"]) {
      assert.notInclude(out, secret)
    }
    assert.strictEqual(out.split(redactedMarker).length - 1, 4)
  })

  it("hides sk-ant- keys and bearer tokens not in the environment", () => {
    const out = r.redact(`{"tool_result":"Authorization: Bearer eyJhbGciOi.J9-x_y","k":"sk-ant-other-KEY_9"}`)
    assert.notInclude(out, "eyJhbGciOi")
    assert.notInclude(out, "sk-ant-other")
    assert.include(out, "Authorization: [REDACTED]")
  })

  it("leaves short flag values and non-secret variables alone", () => {
    assert.strictEqual(r.redact("turn 1 of 1 in /usr/bin:/bin"), "turn 1 of 1 in /usr/bin:/bin")
    assert.strictEqual(r.secretValues, 4)
  })

  it("hides a value with a quote or a backslash as stream-json carries it (JSON-escaped), and its decoding", () => {
    const secret = 'hunter2"pa\\ss'
    const quoted = makeRedactor({ DB_PASSWORD: secret })
    const line = JSON.stringify({ type: "result", result: `psql: password ${secret} rejected` })
    const stored = quoted.redact(line)
    assert.isTrue(quoted.mayContainSecret(Buffer.from(line)))
    assert.strictEqual(JSON.parse(stored).result, `psql: password ${redactedMarker} rejected`)
    assert.strictEqual(quoted.redact(`raw ${secret}`), `raw ${redactedMarker}`)
    assert.strictEqual(quoted.secretValues, 1)
  })

  it("escapes regex characters in secret values", () => {
    const weird = makeRedactor({ API_KEY: "a.b*c(d)e+f?" })
    assert.strictEqual(weird.redact("x a.b*c(d)e+f? y aXb"), `x ${redactedMarker} y aXb`)
  })
})

describe("redaction screen", () => {
  const r = makeRedactor({ API_KEY: "sk-ant-api03-abcdefghijklmnop", GH_TOKEN: "ghp_1234567890abcdef" })

  it("says bytes may hold a secret exactly when one of the needles occurs", () => {
    assert.isFalse(r.mayContainSecret(Buffer.from('{"type":"user","content":"nothing to see"}\n')))
    assert.isTrue(r.mayContainSecret(Buffer.from("token ghp_1234567890abcdef\n")))
    assert.isTrue(r.mayContainSecret(Buffer.from("sk-ant-someone-else\n")))
    assert.isTrue(r.mayContainSecret(Buffer.from("Authorization: Bearer abc\n")))
  })

  it("stays exact once it has tuned itself to the stream, whichever URL literal it searches", () => {
    for (const sample of ["mail a@b.c, @scope/pkg ".repeat(4000), "see https://example.com/x ".repeat(4000)]) {
      const tuned = makeRedactor({ DB_PASSWORD: "p@ss:w0rd!", GH_TOKEN: "ghp_1234567890abcdef" })
      assert.isFalse(tuned.mayContainSecret(Buffer.from(sample.replaceAll("ghp_", "ghq_"))))
      for (const secret of ["p@ss:w0rd!", "ghp_1234567890abcdef", "x https://u:p@h", "sk-ant-zz", "Bearer zz"]) {
        assert.isTrue(tuned.mayContainSecret(Buffer.from(`{"stdout":"${secret}"}\n`)), secret)
        assert.notInclude(tuned.redact(secret), secret.includes("://") ? "u:p" : secret)
      }
      assert.isFalse(tuned.mayContainSecret(Buffer.from('{"stdout":"nothing here"}\n')))
    }
  })

  it("returns the very same string when there is nothing to redact", () => {
    const text = "plain line " + "x".repeat(100)
    assert.strictEqual(r.redact(text), text)
  })
})

describe("URL credentials", () => {
  it("hides the user:password of a URL, keeping scheme and host", () => {
    const r = makeRedactor({})
    assert.strictEqual(r.redact("HTTPS_PROXY=http://bob:hunter2@proxy:8080"), "HTTPS_PROXY=http://[REDACTED]@proxy:8080")
    assert.strictEqual(r.redact("see https://example.com/a:b@c"), "see https://example.com/a:b@c")
    assert.isTrue(r.mayContainSecret(Buffer.from("x https://u:p@h\n")))
  })
})
