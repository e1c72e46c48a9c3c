/**
 * The `python-agent-sdk` recipe: choose a Python (>= the minimum, on PATH), probe it, agentrun's
 * venv and the `pip --target` dir for the SDK, and build: a venv with pip, or, where the venv
 * cannot be made (no ensurepip), `pip install --target`; then import the module.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { type Draft, emptyDraft, type ManagedDirs, pipCommon, succeeded } from "./BootstrapModel.ts"
import { classifySpawnError } from "./classify.ts"
import type { Phase } from "./codes.ts"
import type { InstallerError } from "./errors.ts"
import type { InstallerSpec } from "./InstallerProcess.ts"
import { chooseInterpreter, type InterpreterChoice, minimumPython } from "./interpreters.ts"
import type { Recipe, RecipePlan } from "./Recipe.ts"
import type { RecipeTools } from "./RecipeTools.ts"

/** The SDK recipe, with the probe of a chosen interpreter that `doctor` shows too. */
export interface PythonSdkRecipe extends Recipe {
  /** The interpreter candidates on PATH and the one chosen. */
  readonly choose: Effect.Effect<InterpreterChoice>
  /** The no-op probes with an interpreter already chosen. */
  readonly probeWith: (choice: InterpreterChoice) => Effect.Effect<Draft | null>
}

/** Builds the SDK recipe. */
export const pythonSdkRecipe = (tools: RecipeTools, managed: ManagedDirs): PythonSdkRecipe => {
  const { installer, settings, env, redactor, step, checkFailure, probeOk } = tools
  const probeTimeout = settings.probeTimeout

  const importCode = `import ${settings.pythonModule}`
  const findCode = `import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(${JSON.stringify(settings.pythonModule)}) else 1)`

  const probePython = (choice: InterpreterChoice): Effect.Effect<Draft | null> =>
    Effect.gen(function*() {
      const py = choice.chosen
      if (py === null) return null
      const base = { ...emptyDraft, interpreterVersion: py.version }
      if (yield* probeOk({ command: py.path, args: ["-c", findCode], env })) {
        return { ...base, outcome: "NoopSystem", executable: py.path, message: `${py.path} (Python ${py.version}) finds ${settings.pythonModule}` }
      }
      if (NodeFs.existsSync(managed.venvPython) && (yield* probeOk({ command: managed.venvPython, args: ["-c", importCode], env }))) {
        return { ...base, outcome: "NoopManaged", executable: managed.venvPython, message: `agentrun's venv imports ${settings.pythonModule} (${managed.venv})` }
      }
      if (
        NodeFs.existsSync(managed.target) &&
        (yield* probeOk({ command: py.path, args: ["-c", importCode], env: { ...env, PYTHONPATH: managed.target } }))
      ) {
        return {
          ...base,
          outcome: "NoopTarget",
          executable: py.path,
          pythonPath: managed.target,
          message: `${settings.pythonModule} is importable from ${managed.target} (set PYTHONPATH)`
        }
      }
      return null
    })

  const verifyImport = (phase: Phase, python: string, extraEnv: Record<string, string>) => {
    const spec: InstallerSpec = { command: python, args: ["-c", importCode], env: { ...env, ...extraEnv }, timeout: probeTimeout }
    return installer.run(spec).pipe(
      Effect.mapError((error) => classifySpawnError(phase, error, redactor())),
      Effect.flatMap((run) => {
        if (succeeded(run)) return Effect.void
        return Effect.fail(checkFailure(phase, spec, settings.pythonRequirement, run, {
          command: `${python} -c '${importCode}'`,
          output: run.stderr,
          message: (last) => `pip installed ${settings.pythonRequirement} but \`${importCode}\` fails: ${last}`
        }))
      })
    )
  }

  const buildPythonTarget = (py: string, version: string | null, venvError: InstallerError) =>
    Effect.gen(function*() {
      yield* Effect.sync(() => NodeFs.rmSync(managed.venv, { recursive: true, force: true }))
      yield* step("pip_target", {
        command: py,
        args: ["-m", "pip", "install", "--target", managed.target, "--upgrade", ...pipCommon, ...settings.pipArgs, settings.pythonRequirement],
        env,
        timeout: settings.installerTimeout
      }, settings.pythonRequirement)
      yield* verifyImport("pip_target", py, { PYTHONPATH: managed.target })
      return {
        ...emptyDraft,
        outcome: "BuiltTarget",
        executable: py,
        pythonPath: managed.target,
        interpreterVersion: version,
        message: `venv creation failed (${venvError.kind}: ensurepip unavailable), so ${settings.pythonRequirement} was installed into ${managed.target}; set PYTHONPATH=${managed.target}. Install python3-venv for a proper venv`
      } satisfies Draft
    })

  const buildPython = (py: string, version: string | null): Effect.Effect<Draft, InstallerError> =>
    Effect.gen(function*() {
      yield* Effect.sync(() => NodeFs.mkdirSync(NodePath.dirname(managed.venv), { recursive: true }))
      const venv = yield* Effect.result(step("venv", { command: py, args: ["-m", "venv", "--clear", managed.venv], env, timeout: settings.installerTimeout }, "venv"))
      if (venv._tag === "Failure") {
        if (venv.failure._tag === "VenvEnsurepipFail") return yield* buildPythonTarget(py, version, venv.failure)
        return yield* Effect.fail(venv.failure)
      }
      yield* step("pip", {
        command: managed.venvPython,
        args: ["-m", "pip", "install", ...pipCommon, ...settings.pipArgs, settings.pythonRequirement],
        env,
        timeout: settings.installerTimeout
      }, settings.pythonRequirement)
      yield* verifyImport("pip", managed.venvPython, {})
      return {
        ...emptyDraft,
        outcome: "Built",
        executable: managed.venvPython,
        interpreterVersion: version,
        message: `installed ${settings.pythonRequirement} into the venv ${managed.venv}`
      } satisfies Draft
    })

  const choose = chooseInterpreter(installer, env, probeTimeout)

  const plan: Effect.Effect<RecipePlan> = Effect.gen(function*() {
    const choice = yield* choose
    const py = choice.chosen
    if (py === null) {
      const seen = choice.candidates.map((c) => `${c.path} (${c.version ?? "--version failed"})`).join(", ")
      return {
        _tag: "Done",
        draft: {
          ...emptyDraft,
          outcome: "IncompatibleInterpreter",
          phase: "pre",
          message: `no Python >= ${minimumPython} on PATH${seen === "" ? "" : `; found ${seen}`}. Install Python ${minimumPython} or newer`
        }
      }
    }
    const present = yield* probePython(choice)
    if (present !== null) return { _tag: "Done", draft: present }
    return { _tag: "Build", build: buildPython(py.path, py.version), extra: { interpreterVersion: py.version }, installing: "claude-agent-sdk" }
  })

  return { runtime: "python-agent-sdk", probe: Effect.flatMap(choose, probePython), plan, choose, probeWith: probePython }
}
