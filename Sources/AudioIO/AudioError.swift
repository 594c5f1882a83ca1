/// A failure reading or writing audio, with libsndfile's own message.
public struct AudioError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// libsndfile does not recognise the bytes as audio it can read.
        case unreadable
        /// Decoding stopped before the announced end of the audio.
        case truncated
        /// The file could not be written.
        case writeFailed
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
