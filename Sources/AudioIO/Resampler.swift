import CSamplerate

/// Sample rate conversion with libsamplerate's band-limited sinc converter (never sample dropping).
public enum Resampler {
    public static func resample(_ samples: [Float], from rate: Int, to target: Int, channels: Int) throws -> [Float] {
        guard rate != target, !samples.isEmpty else { return samples }
        let frames = samples.count / max(channels, 1)
        let ratio = Double(target) / Double(rate)
        let capacity = Int((Double(frames) * ratio).rounded(.up)) + 16
        var output = [Float](repeating: 0, count: capacity * channels)
        var produced = 0
        let status: Int32 = samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                var data = SRC_DATA()
                data.data_in = input.baseAddress
                data.input_frames = frames
                data.data_out = out.baseAddress
                data.output_frames = capacity
                data.src_ratio = ratio
                data.end_of_input = 1
                let status = src_simple(&data, Int32(SRC_SINC_MEDIUM_QUALITY), Int32(channels))
                produced = data.output_frames_gen
                return status
            }
        }
        guard status == 0 else {
            throw AudioError(.writeFailed, "libsamplerate: \(String(cString: src_strerror(status)))")
        }
        output.removeSubrange((produced * channels)...)
        return output
    }
}
