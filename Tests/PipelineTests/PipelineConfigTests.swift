import Foundation
import Pipeline
import PrerenderTesting
import Testing

/// pipeline.yaml, then the environment: precedence and errors with positions.
@Suite struct PipelineConfigTests {
    @Test func environmentWinsOverTheFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("pipeline.yaml", "queue:\n  workers: 3\n  dedup_ttl: 100\nredis:\n  url: embedded\n")
        let config = try PipelineConfig.load(path: path, required: true, environment: [
            "TTS_WORKER_COUNT": "5", "REDIS_URL": "redis://10.0.0.1:6379/2", "TTS_SYNTHESIZER": "murf",
            "MURF_BASE_URL": "http://127.0.0.1:9", "TTS_JOB_TTL": "60", "TTS_JOB_RESULT_TTL": "120",
            "TTS_WORKER_TIMEOUT": "30", "TTS_MAX_RETRIES": "1", "TTS_RETRY_DELAY": "2", "TTS_RATE_LIMIT_PER_MINUTE": "30",
        ])
        #expect(config.queue.workers == 5)
        #expect(config.queue.dedupTTL == 100)
        #expect(config.redisURL == "redis://10.0.0.1:6379/2")
        #expect(config.synthesizer == .murf)
        #expect(config.murf.baseURL == "http://127.0.0.1:9")
        #expect(config.queue.jobTTL == 60 && config.queue.resultTTL == 120 && config.queue.jobTimeout == 30)
        #expect(config.queue.maxRetries == 1 && config.queue.retryDelay == 2 && config.murf.rateLimit.perMinute == 30)
    }

    @Test func envTemplateListsEveryVariable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let template = try String(contentsOf: root.appendingPathComponent("env.template"), encoding: .utf8)
        for name in ["REDIS_URL", "TTS_WORKER_COUNT", "TTS_WORKER_TIMEOUT", "TTS_JOB_TTL", "TTS_JOB_RESULT_TTL", "TTS_MAX_RETRIES",
                     "TTS_RETRY_DELAY", "TTS_RATE_LIMIT_PER_MINUTE", "TTS_DEDUP_TTL", "TTS_SYNTHESIZER", "MURF_API_KEY", "MURF_BASE_URL"] {
            #expect(template.contains("\(name)="), "env.template lists \(name)")
        }
        #expect(throws: InvalidInput.self) { try PipelineConfig.load(path: "/none", required: false, environment: ["TTS_DEDUP_TTL": "x"]) }
    }

    @Test func theDefaultsAreTheArchitectureDocumentsValues() throws {
        // env.template holds the architecture document's values: setting all of them must change nothing.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let template = try String(contentsOf: root.appendingPathComponent("env.template"), encoding: .utf8)
        var documented: [String: String] = [:]
        for line in template.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { documented[parts[0]] = parts[1] }
        }
        #expect(documented["TTS_WORKER_COUNT"] == "4" && documented["TTS_DEDUP_TTL"] == "3600")
        let set = try PipelineConfig.load(path: "/none", required: false, environment: documented)
        let unset = try PipelineConfig.load(path: "/none", required: false, environment: [:])
        #expect(set.queue.workers == unset.queue.workers)
        #expect(set.queue.jobTimeout == unset.queue.jobTimeout && set.queue.jobTTL == unset.queue.jobTTL)
        #expect(set.queue.resultTTL == unset.queue.resultTTL && set.queue.dedupTTL == unset.queue.dedupTTL)
        #expect(set.queue.maxRetries == unset.queue.maxRetries && set.queue.retryDelay == unset.queue.retryDelay)
        #expect(set.murf.rateLimit.perMinute == unset.murf.rateLimit.perMinute && set.murf.baseURL == unset.murf.baseURL)
        #expect(set.synthesizer == unset.synthesizer)
    }

    @Test func badEnvironmentValuesAreErrors() {
        #expect(throws: InvalidInput.self) {
            try PipelineConfig.load(path: "/nonexistent/pipeline.yaml", required: false, environment: ["TTS_WORKER_COUNT": "many"])
        }
    }

    @Test func fileErrorsHaveTheirPositions() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("pipeline.yaml", "synthesizer: festival\nqueue:\n  workers: -1\n  wokers: 2\n")
        do {
            _ = try PipelineConfig.load(path: path, required: true, environment: [:])
            Issue.record("a bad file must fail")
        } catch let error as InvalidInput {
            let lines = error.diagnostics.map { $0.description.replacingOccurrences(of: directory.path + "/", with: "") }
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix("pipeline.yaml:1:14: synthesizer must be one of espeak, murf"))
            #expect(lines.contains { $0.hasPrefix("pipeline.yaml:4:3: queue: unknown key 'wokers'") && $0.hasSuffix("did you mean 'workers'?") })
            #expect(lines.contains("pipeline.yaml:3:12: queue.workers must be from 0 to 256, not -1"))
        }
    }

    @Test func aMissingFileIsAnErrorOnlyWhenNamed() throws {
        #expect(throws: InvalidInput.self) { try PipelineConfig.load(path: "/nonexistent/p.yaml", required: true, environment: [:]) }
        let defaults = try PipelineConfig.load(path: "/nonexistent/p.yaml", required: false, environment: [:])
        #expect(defaults.synthesizer == .espeak && defaults.usesEmbeddedRedis)
    }
}
