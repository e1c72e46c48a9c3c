/**
 * A small hand-made fake of the VS Code API surface the extension uses (src/vscode/VsCodeApi.ts):
 * it keeps what the extension registered (commands, the tree provider, content providers), records
 * what it showed (messages, progress, status bar text, documents, log lines), and answers prompts
 * and picks from queues the test fills.
 *
 * @module
 */
import type * as vscode from "vscode"
import type { ExtensionContextShape, VsCodeApi } from "../src/vscode/VsCodeApi.ts"

type Listener<T> = (value: T) => unknown

class FakeEventEmitter<T> {
  private listeners = new Set<Listener<T>>()
  readonly event = (listener: Listener<T>) => {
    this.listeners.add(listener)
    return { dispose: () => void this.listeners.delete(listener) }
  }
  fire(value: T) {
    for (const l of [...this.listeners]) l(value)
  }
  dispose() {
    this.listeners.clear()
  }
  get listenerCount() {
    return this.listeners.size
  }
}

class FakeThemeColor {
  readonly id: string
  constructor(id: string) {
    this.id = id
  }
}

class FakeThemeIcon {
  readonly id: string
  readonly color: FakeThemeColor | undefined
  constructor(id: string, color?: FakeThemeColor) {
    this.id = id
    this.color = color
  }
}

class FakeUri {
  readonly scheme: string
  readonly path: string
  constructor(scheme: string, path: string) {
    this.scheme = scheme
    this.path = path
  }
  get fsPath() {
    return this.path
  }
  toString() {
    return `${this.scheme}:${this.path}`
  }
}

/** A message the extension showed. */
export interface ShownMessage {
  readonly level: "info" | "warning" | "error"
  readonly message: string
  readonly items: ReadonlyArray<string>
}

/** A notification progress the extension showed: its title, reports, and its Cancel button. */
export interface ShownProgress {
  readonly title: string | undefined
  readonly reports: Array<string>
  readonly cancel: () => void
  done: boolean
}

/** A document the extension opened: its uri (or language for untitled ones) and text. */
export interface ShownDocument {
  readonly uri: string
  readonly text: string
}

/** Makes a fake: the API to give the extension, and the handles a test drives and inspects. */
export const makeFakeVsCode = (options: { readonly settings?: Record<string, unknown>; readonly workspaceFolder?: string } = {}) => {
  const settings = new Map<string, unknown>(Object.entries(options.settings ?? {}))
  const configChanged = new FakeEventEmitter<{ affectsConfiguration: (section: string) => boolean }>()
  const commands = new Map<string, (...args: Array<unknown>) => unknown>()
  const trees = new Map<string, { provider: vscode.TreeDataProvider<string>; view: { selection: Array<string> } }>()
  const contentProviders = new Map<string, vscode.TextDocumentContentProvider>()
  const messages: Array<ShownMessage> = []
  const messageAnswers: Array<string | undefined> = []
  const inputAnswers: Array<string | undefined> = []
  /** The input boxes shown: their title and the value they were pre-filled with. */
  const inputBoxes: Array<{ readonly title: string | undefined; readonly value: string | undefined }> = []
  const pickAnswers: Array<(items: ReadonlyArray<{ label: string }>) => unknown> = []
  const progresses: Array<ShownProgress> = []
  const documents: Array<ShownDocument> = []
  const statusItems: Array<{ text: string; visible: boolean; command: unknown; disposed: boolean }> = []
  const logLines: Array<string> = []
  const clipboard: Array<string> = []
  const disposedChannels: Array<string> = []
  /** Every `onDidChange` a content provider fired, as uri text (VS Code then asks open documents' content again). */
  const contentChanges: Array<string> = []

  const show = (level: ShownMessage["level"]) => (message: string, ...items: Array<unknown>) => {
    messages.push({ level, message, items: items.filter((i): i is string => typeof i === "string") })
    return Promise.resolve(messageAnswers.shift())
  }

  const openTextDocument = async (arg: unknown) => {
    if (arg instanceof FakeUri) {
      const provider = contentProviders.get(arg.scheme)
      if (provider === undefined) throw new Error(`no content provider for ${arg.scheme}`)
      const text = (await provider.provideTextDocumentContent(arg as unknown as vscode.Uri, { isCancellationRequested: false } as vscode.CancellationToken)) ?? ""
      return { uri: arg, getText: () => text }
    }
    const { content, language } = arg as { content: string; language: string }
    return { uri: new FakeUri("untitled", `/${language}`), getText: () => content }
  }

  const api = {
    window: {
      createTreeView: (id: string, o: { treeDataProvider: vscode.TreeDataProvider<string> }) => {
        const view = { selection: [] as Array<string>, dispose: () => void trees.delete(id) }
        trees.set(id, { provider: o.treeDataProvider, view })
        return view
      },
      createStatusBarItem: () => {
        const item = {
          text: "",
          visible: false,
          command: undefined as unknown,
          disposed: false,
          name: "",
          tooltip: "",
          show: () => void (item.visible = true),
          hide: () => void (item.visible = false),
          dispose: () => void (item.disposed = true)
        }
        statusItems.push(item)
        return item
      },
      createOutputChannel: (name: string) => {
        const log = (level: string) => (line: string) => void logLines.push(`${level} ${line}`)
        return {
          name,
          trace: log("trace"),
          debug: log("debug"),
          info: log("info"),
          warn: log("warn"),
          error: log("error"),
          dispose: () => void disposedChannels.push(name)
        }
      },
      showInformationMessage: show("info"),
      showWarningMessage: show("warning"),
      showErrorMessage: show("error"),
      showInputBox: (o: { title?: string; value?: string } = {}) => {
        inputBoxes.push({ title: o.title, value: o.value })
        return Promise.resolve(inputAnswers.shift())
      },
      showQuickPick: (items: ReadonlyArray<{ label: string }>) => {
        const answer = pickAnswers.shift()
        return Promise.resolve(answer === undefined ? undefined : answer(items))
      },
      withProgress: (o: { title?: string }, task: (progress: unknown, token: unknown) => Promise<unknown>) => {
        const cancelled = new FakeEventEmitter<void>()
        const token = { isCancellationRequested: false, onCancellationRequested: cancelled.event }
        const shown: ShownProgress = {
          title: o.title,
          reports: [],
          cancel: () => {
            token.isCancellationRequested = true
            cancelled.fire(undefined)
          },
          done: false
        }
        progresses.push(shown)
        return task({ report: (r: { message?: string }) => void shown.reports.push(r.message ?? "") }, token).finally(() => {
          shown.done = true
        })
      },
      showTextDocument: (doc: { uri: FakeUri; getText: () => string }) => {
        documents.push({ uri: doc.uri.toString(), text: doc.getText() })
        return Promise.resolve({})
      },
      activeTextEditor: undefined as unknown
    },
    commands: {
      registerCommand: (id: string, fn: (...args: Array<unknown>) => unknown) => {
        if (commands.has(id)) throw new Error(`command ${id} registered twice`)
        commands.set(id, fn)
        return { dispose: () => void commands.delete(id) }
      },
      executeCommand: (id: string, ...args: Array<unknown>) => {
        const fn = commands.get(id)
        return fn === undefined ? Promise.reject(new Error(`command '${id}' not found`)) : Promise.resolve(fn(...args))
      }
    },
    workspace: {
      getConfiguration: (section: string) => ({ get: (key: string) => settings.get(`${section}.${key}`) }),
      onDidChangeConfiguration: configChanged.event,
      registerTextDocumentContentProvider: (scheme: string, provider: vscode.TextDocumentContentProvider) => {
        contentProviders.set(scheme, provider)
        const listener = provider.onDidChange?.((uri) => void contentChanges.push(uri.toString()))
        return {
          dispose: () => {
            listener?.dispose()
            contentProviders.delete(scheme)
          }
        }
      },
      openTextDocument,
      workspaceFolders: options.workspaceFolder === undefined ? undefined : [{ name: "ws", index: 0, uri: new FakeUri("file", options.workspaceFolder) }]
    },
    env: { clipboard: { writeText: (text: string) => Promise.resolve(void clipboard.push(text)) } },
    Uri: { from: (c: { scheme: string; path?: string }) => new FakeUri(c.scheme, c.path ?? "/") },
    EventEmitter: FakeEventEmitter,
    ThemeIcon: FakeThemeIcon,
    ThemeColor: FakeThemeColor,
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 }
  }

  const subscriptions: Array<{ dispose(): unknown }> = []
  const memento = new Map<string, unknown>()
  const context: ExtensionContextShape = {
    subscriptions,
    globalState: {
      get: ((key: string, fallback?: unknown) => memento.has(key) ? memento.get(key) : fallback) as vscode.Memento["get"],
      update: (key, value) => Promise.resolve(void memento.set(key, value))
    }
  }

  return {
    // The seam: the fake behaves as the real API for every member the extension uses; its
    // overloaded signatures are not restated here.
    api: api as unknown as VsCodeApi,
    context,
    commands,
    messages,
    messageAnswers,
    inputAnswers,
    inputBoxes,
    pickAnswers,
    progresses,
    documents,
    statusItems,
    logLines,
    clipboard,
    memento,
    disposedChannels,
    contentChanges,
    /** The Runs view's rows: [runId, tree item] in display order. */
    rows: async (viewId = "agentrun.runs") => {
      const tree = trees.get(viewId)
      if (tree === undefined) return []
      const ids = (await tree.provider.getChildren(undefined)) ?? []
      return Promise.all(ids.map(async (id) => [id, await tree.provider.getTreeItem(id)] as const))
    },
    select: (runId: string, viewId = "agentrun.runs") => void (trees.get(viewId)!.view.selection = [runId]),
    /**
     * Makes a file the active editor, with lines `selection` (0-based, inclusive) selected, or
     * nothing selected; `undefined` closes it.
     */
    setActiveEditor: (editor: { readonly path: string; readonly text: string; readonly selection?: readonly [number, number] } | undefined) => {
      const window = api.window as { activeTextEditor: unknown }
      if (editor === undefined) return void (window.activeTextEditor = undefined)
      const lines = editor.text.split("\n")
      const [start, end] = editor.selection ?? [0, 0]
      const selection = { isEmpty: editor.selection === undefined, start: { line: start, character: 0 }, end: { line: end, character: lines[end]?.length ?? 0 } }
      window.activeTextEditor = {
        selection,
        document: {
          uri: new FakeUri("file", editor.path),
          getText: (range?: typeof selection) => range === undefined ? editor.text : lines.slice(range.start.line, range.end.line + 1).join("\n")
        }
      }
    },
    hasTree: (viewId: string) => trees.has(viewId),
    /** Changes a setting and tells the extension, as VS Code does. */
    setSetting: (key: string, value: unknown) => {
      settings.set(key, value)
      configChanged.fire({ affectsConfiguration: (section) => key === section || key.startsWith(`${section}.`) })
    },
    open: (uri: string) => {
      const [scheme, path] = [uri.slice(0, uri.indexOf(":")), uri.slice(uri.indexOf(":") + 1)]
      return openTextDocument(new FakeUri(scheme, path)).then((d) => d.getText())
    },
    configListeners: () => configChanged.listenerCount
  }
}

export type FakeVsCode = ReturnType<typeof makeFakeVsCode>
