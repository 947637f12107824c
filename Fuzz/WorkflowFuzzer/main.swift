import Foundation

/// libFuzzer target (a): the workflow front end on arbitrary bytes.
///
/// Each input goes through the loader as raw bytes (`WorkflowLoader.load(data:)`, which checks
/// size, encoding, NUL bytes and UTF-8 first) and, when those checks refuse it, decoded
/// leniently to a `String` (`WorkflowPipeline.compile(text:path:)`), so that libyaml also sees
/// the replacement characters; each is validated and compiled for `validate` and for `run`. The root
/// is also read as a `--services` file. Built and run by `scripts/fuzz.sh`.
@_cdecl("LLVMFuzzerTestOneInput")
public func workflowFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let path = "fuzz.yaml"

    let loaded = WorkflowLoader.load(data: bytes, path: path)
    FuzzCheck.require(loaded.syntax != nil || loaded.hasErrors, "the loader returned no tree and no error")
    for options in [ValidationOptions(), ValidationOptions(externalServices: ["inventory"], forExecution: true)] {
        FuzzCheck.pipelineResult(WorkflowPipeline.finish(loaded, options: options), path: path)
    }

    // Bytes the loader read as text went to libyaml as this same string; only bytes it refused
    // (not UTF-8, NUL, UTF-16) make a different text when decoded leniently.
    let text = String(decoding: bytes, as: UTF8.self)
    if loaded.source == nil {
        FuzzCheck.pipelineResult(WorkflowPipeline.compile(text: text, path: path), path: path)
    }

    // The same reader and lowering serve `--services` files.
    let read = YAMLReader().read(text)
    FuzzCheck.positions(read.diagnostics, source: SourceFile(path: path, text: text))
    if let root = read.root {
        let (bindings, diagnostics) = WorkflowLowering.lowerServices(root)
        FuzzCheck.positions(diagnostics, source: SourceFile(path: path, text: text))
        for binding in bindings { _ = WorkflowCompiler.compileBinding(binding) }
    }
    return 0
}
