import StateLang
for path in CommandLine.arguments.dropFirst() {
    let r = WorkflowLoader.load(path: path)
    for d in r.diagnostics { print(DiagnosticRenderer().render(d, path: path, source: r.source), terminator: "") }
}
