/**
 * The pure classifier over recorded installer output (npm's and pip's real wording), 128+n from a
 * wrapper shell, agentrun's own kill, and secret redaction.
 */
import { assert, describe, it } from "@effect/vitest"
import { classifyRun, classifySpawnError, npmErrorCode } from "../../src/bootstrap/classify.ts"
import { ErrorKindCodes } from "../../src/bootstrap/codes.ts"
import { InstallerErrorClasses } from "../../src/bootstrap/errors.ts"
import { InstallerSpawnError } from "../../src/bootstrap/InstallerProcess.ts"
import { BootstrapTest } from "../../src/testing.ts"
import { stderrHash } from "../../src/bootstrap/installerOutput.ts"
import { makeRedactor } from "../../src/domain/Redaction.ts"

const classify = (stderr: string, phase: "npm" | "pip" | "venv" = "pip", exitCode = 1) =>
  classifyRun({ phase, command: "installer", run: BootstrapTest.scriptedRun({ exitCode }, "", stderr), redactor: makeRedactor({}), timeoutMs: 1000, spec: "pkg" })

describe("classify", () => {
  it.each([
    ["npm error code ETARGET\nnpm error notarget No matching version found for x@9.9.9.", "npm", "NpmNotFound"],
    ["npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://registry.npmjs.org/nope", "npm", "NpmNotFound"],
    ["npm error code EINTEGRITY\nnpm error sha512-abc integrity checksum failed", "npm", "NpmIntegrity"],
    ["npm error code EBADENGINE\nnpm error notsup Required: {\"node\":\">=99\"}", "npm", "NpmEngine"],
    ["npm error code ENOTFOUND\nnpm error getaddrinfo ENOTFOUND registry.example", "npm", "DnsFail"],
    ["npm error code ENOSPC\nnpm error nospc ENOSPC: no space left on device", "npm", "DiskFull"],
    ["npm error code EACCES\nnpm error syscall mkdir", "npm", "PermDenied"],
    ["npm error code SELF_SIGNED_CERT_IN_CHAIN", "npm", "SslVerify"],
    ["ERROR: Could not find a version that satisfies the requirement x (from versions: none)\nERROR: No matching distribution found for x", "pip", "PipNoMatch"],
    ["WARNING: Retrying ... Failed to establish a new connection: [Errno -2] Name or service not known\nERROR: No matching distribution found for x", "pip", "DnsFail"],
    ["Could not fetch URL https://pypi.org/simple/x/: ... [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "pip", "SslVerify"],
    ["ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 407 Proxy Authentication Required'))", "pip", "ProxyAuth"],
    ["ReadTimeoutError(\"HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read timed out.\")", "pip", "NetworkTimeout"],
    ["ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device", "pip", "DiskFull"],
    ["ERROR: Could not install packages due to an OSError: [Errno 13] Permission denied: '/x'", "pip", "PermDenied"],
    ["/usr/bin/python3: No module named pip", "pip", "NoPip"],
    ["/usr/bin/python3: No module named venv", "venv", "VenvNoModule"],
    ["Error: Command '['/v/bin/python3', '-m', 'ensurepip', '--upgrade', '--default-pip']' returned non-zero exit status 1.", "venv", "VenvEnsurepipFail"],
    ["OSError: [Errno 36] File name too long: '/aaaa'", "venv", "VenvPathTooLong"],
    ["something odd", "venv", "VenvSetupFailed"],
    ["Traceback ...\nRuntimeError: something odd at 0x7f00aa11", "pip", "Uncategorized"]
  ] as const)("%s → %s", (stderr, phase, tag) => {
    assert.strictEqual(classify(stderr, phase)._tag, tag)
  })

  it("every class carries its code, matching ErrorKindCodes", () => {
    for (const Class of InstallerErrorClasses) {
      const sample = new Class({
        message: "m", phase: "pre", command: "", exitCode: null, signal: null, stderrTail: "", retryable: false,
        timeoutMs: 1, signalName: "SIGKILL", signalNumber: 9, returnCode: -9, via: "wait", npmCode: "E404", spec: "x",
        required: ">=22", actual: "v20", lastStderrLine: "", stderrHash: ""
      } as never)
      assert.strictEqual(sample.code, ErrorKindCodes[sample.kind])
      assert.strictEqual(Class.code, sample.code)
    }
  })

  it("one class per error kind: every code in ErrorKindCodes has exactly one class, each with its own tag", () => {
    const codes = InstallerErrorClasses.map((Class) => Class.code)
    assert.sameMembers(codes, Object.values(ErrorKindCodes))
    assert.strictEqual(new Set(codes).size, codes.length)
    assert.strictEqual(new Set(InstallerErrorClasses.map((Class) => Class.identifier)).size, codes.length)
  })

  it("exit 137 from a wrapper shell is signal_killed via 128+n, with the return code", () => {
    const error = classify("", "venv", 137)
    assert.strictEqual(error._tag, "SignalKilled")
    if (error._tag === "SignalKilled") {
      assert.deepStrictEqual([error.signalName, error.returnCode, error.via], ["SIGKILL", 137, "exit-128+n"])
    }
  })

  it("a fault the CPU raised (SIGILL, SIGBUS, SIGFPE) is explained as such, not as a signal someone sent", () => {
    const advice = (signal: "SIGILL" | "SIGBUS" | "SIGFPE" | "SIGHUP") =>
      classifyRun({ phase: "npm", command: "claude --version", run: BootstrapTest.scriptedRun({ signal }), redactor: makeRedactor({}), timeoutMs: 5000, spec: "x" }).message
    assert.match(advice("SIGILL"), /instruction this CPU does not have/)
    assert.match(advice("SIGBUS"), /bus error/)
    assert.match(advice("SIGFPE"), /arithmetic fault/)
    assert.match(advice("SIGHUP"), /something outside agentrun sent SIGHUP/)
    for (const s of ["SIGILL", "SIGBUS", "SIGFPE"] as const) assert.notMatch(advice(s), /outside agentrun sent/)
  })

  it("a signal agentrun sent itself is not signal_killed", () => {
    const run = { ...BootstrapTest.scriptedRun({ signal: "SIGKILL" }), sentSignal: "SIGKILL", timedOut: true }
    const error = classifyRun({ phase: "npm", command: "npm", run, redactor: makeRedactor({}), timeoutMs: 5000, spec: "x" })
    assert.strictEqual(error._tag, "SubprocessTimeout")
  })

  it("uncategorized carries the last stderr line and a stable hash; secrets never reach messages", () => {
    const redactor = makeRedactor({ ANTHROPIC_API_KEY: "sk-ant-supersecret", HOME: "/root", GH_TOKEN: "ghp_abcdef" })
    const stderr = "connecting with sk-ant-supersecret\nfailed at /tmp/a1/x line 42 via https://bob:hunter2@proxy:8080"
    const error = classifyRun({ phase: "pip", command: "pip", run: BootstrapTest.scriptedRun({ exitCode: 2 }, "", stderr), redactor, timeoutMs: 1, spec: "x" })
    assert.strictEqual(error._tag, "Uncategorized")
    const text = JSON.stringify(error)
    assert.notInclude(text, "sk-ant-supersecret")
    assert.notInclude(text, "hunter2")
    if (error._tag === "Uncategorized") {
      assert.match(error.lastStderrLine, /^failed at/)
      assert.strictEqual(error.stderrHash.length, 12)
    }
    assert.strictEqual(stderrHash("failed at /tmp/a1/x line 42"), stderrHash("failed at /home/b/y line 7"))
    assert.strictEqual(redactor.redact("token ghp_abcdef"), "token [REDACTED]")
    assert.strictEqual(npmErrorCode("npm error code ETARGET"), "ETARGET")
  })
})

describe("installer that cannot start", () => {
  it("redacts credentials in the command line and message it records", () => {
    const command = "pip install --index-url https://bob:s3cretpass@pypi.internal/simple claude-agent-sdk"
    const error = classifySpawnError("pip", new InstallerSpawnError({ message: `spawn ${command} ENOENT`, command, errno: "ENOENT", retryable: false }), makeRedactor({}))
    assert.strictEqual(error.kind, "uncategorized")
    assert.notInclude(error.command, "s3cretpass")
    assert.notInclude(error.message, "s3cretpass")
    assert.include(error.message, "not found on PATH")
  })
})
