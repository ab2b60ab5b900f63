import Foundation
import XCTest

@testable import Gateway

/// Runs a Python file with the virtual environment that `scripts/test.sh` prepares (real client
/// libraries such as `gql` and `python-socketio` talking to the server under test). `script` is a
/// path, relative to the package root unless absolute; the working directory is the package root.
func runPython(
    script: String, args: [String] = [], env: [String: String] = [:], timeout: Duration = .seconds(120)
) async throws -> (status: Int32, stdout: String, stderr: String) {
    let path = script.hasPrefix("/") ? script : PythonEnvironment.packageRoot + "/" + script
    guard FileManager.default.fileExists(atPath: path) else {
        throw PythonError("Python script not found: \(path)")
    }
    return try await PythonEnvironment.run([path] + args, env: env, timeout: timeout)
}

/// The same for a short program given as text, for checks too small to deserve a file.
func runPython(
    code: String, args: [String] = [], env: [String: String] = [:], timeout: Duration = .seconds(120)
) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await PythonEnvironment.run(["-c", code] + args, env: env, timeout: timeout)
}

struct PythonError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum PythonEnvironment {
    /// Tests/MessagerieTests/Support/Python.swift is four levels below the package root.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func interpreter() throws -> String {
        let files = FileManager.default
        if let configured = ProcessInfo.processInfo.environment["MESSAGERIE_TEST_PYTHON"], !configured.isEmpty {
            guard files.isExecutableFile(atPath: configured) else {
                throw PythonError("MESSAGERIE_TEST_PYTHON=\(configured) is not an executable file; run the tests with scripts/test.sh, which creates the test virtual environment")
            }
            return configured
        }
        let fallback = packageRoot + "/.build/test-venv/bin/python"
        guard files.isExecutableFile(atPath: fallback) else {
            throw PythonError("no Python for the tests: MESSAGERIE_TEST_PYTHON is not set and \(fallback) does not exist; run the tests with scripts/test.sh, which creates it")
        }
        return fallback
    }

    /// Through `ChildProcess` rather than Foundation's `Process`, whose children inherit the
    /// blocked signals of a dispatch thread and then ignore the timeout's SIGTERM.
    static func run(
        _ arguments: [String], env: [String: String], timeout: Duration
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let python = try interpreter()
        let completion = try await ChildProcess.run(
            [python] + arguments, environment: env, directory: packageRoot, mergeOutput: false, timeout: timeout)
        let result = (
            status: completion.status,
            stdout: String(decoding: completion.stdout, as: UTF8.self),
            stderr: String(decoding: completion.stderr, as: UTF8.self)
        )
        if completion.timedOut {
            throw PythonError("python \(arguments.joined(separator: " ")) timed out after \(timeout)\n--- stdout\n\(result.stdout)\n--- stderr\n\(result.stderr)")
        }
        return result
    }
}

/// The helper itself, against the real virtual environment: the end-to-end tests trust it to
/// report failures and to not hang.
final class PythonHelperTests: XCTestCase {
    func testRunsTheVirtualEnvironmentWithTheClientLibrariesArgumentsAndEnvironment() async throws {
        let code = """
            import os, sys
            import gql, graphql, socketio, websocket, requests, openapi_spec_validator
            print(sys.argv[1], os.environ["MESSAGERIE_PROBE"], os.getcwd())
            """
        let result = try await runPython(code: code, args: ["hello"], env: ["MESSAGERIE_PROBE": "from-swift"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "hello from-swift \(PythonEnvironment.packageRoot)\n")
    }

    func testReportsTheExitStatusAndStandardErrorOfAFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("messagerie-python-\(UUID().uuidString).py").path
        try "import sys\nprint('out')\nsys.stderr.write('boom')\nsys.exit(3)\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try await runPython(script: file)
        XCTAssertEqual(result.status, 3)
        XCTAssertEqual(result.stdout, "out\n")
        XCTAssertEqual(result.stderr, "boom")
    }

    func testTimeoutStopsTheScriptAndSaysSo() async throws {
        let started = ContinuousClock.now
        do {
            // The grandchild holds the output pipes too: it must be stopped as well, or the
            // output never ends.
            let code = "import subprocess, time; subprocess.Popen(['sleep', '60']); print('started', flush=True); time.sleep(60)"
            _ = try await runPython(code: code, timeout: .seconds(1))
            XCTFail("a script sleeping 60 s must time out after 1 s")
        } catch {
            let message = "\(error)"
            XCTAssertTrue(message.contains("timed out after"), message)
            XCTAssertTrue(message.contains("started"), "the output so far helps diagnose: \(message)")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "SIGTERM must end it, without waiting for SIGKILL")
    }
}
