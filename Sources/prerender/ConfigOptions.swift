import ArgumentParser
import Foundation
import Pipeline
import RedisClient

/// The options every command shares: where the settings are, and which Redis to use.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The pipeline settings (default: pipeline.yaml, if present).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Redis, as redis://host:port/db or unix:///path; 'embedded' starts a private one for a build.", valueName: "url"))
    var redis: String?

    func validate() throws {
        if let redis, let problem = PipelineConfig.redisURLProblem(redis) { throw ValidationError("--redis: \(problem)") }
    }

    /// pipeline.yaml, then the environment, then these flags. Invalid settings exit 2.
    func load(_ console: Console) throws -> PipelineConfig {
        do {
            var settings = try PipelineConfig.load(path: config ?? "pipeline.yaml", required: config != nil,
                                                   environment: ProcessInfo.processInfo.environment)
            if let redis { settings.redisURL = redis }
            return settings
        } catch let error as InvalidInput {
            console.problem(error.description)
            throw ExitCode.invalidInput
        }
    }

    /// A connection to the shared Redis the settings name. Commands that read what builds left behind need one:
    /// the private Redis of a build is gone when the build ends.
    func sharedRedis(_ settings: PipelineConfig, _ console: Console, for purpose: String) throws -> RedisConnection {
        guard !settings.usesEmbeddedRedis else {
            console.problem("error: \(purpose) live in a shared Redis: pass --redis redis://host:6379/0 or set REDIS_URL (a build's private Redis is gone when the build ends)")
            throw ExitCode.invalidInput
        }
        let endpoint: RedisEndpoint
        do {
            endpoint = try RedisEndpoint(url: settings.redisURL)
        } catch {
            console.problem("error: \(error)")
            throw ExitCode.invalidInput
        }
        do {
            return try RedisConnection(endpoint)
        } catch {
            console.problem("error: cannot reach Redis: \(error)")
            throw ExitCode.infrastructure
        }
    }
}
