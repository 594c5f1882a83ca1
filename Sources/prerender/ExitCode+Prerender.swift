import ArgumentParser

/// The exit codes the README documents.
extension ExitCode {
    static let itemsFailed = ExitCode(1)
    static let invalidInput = ExitCode(2)
    static let infrastructure = ExitCode(3)
    static let interrupted = ExitCode(130)
}

import Pipeline

/// `--synthesizer espeak|murf`, checked and listed by the argument parser itself.
extension SynthesizerKind: ExpressibleByArgument {}
