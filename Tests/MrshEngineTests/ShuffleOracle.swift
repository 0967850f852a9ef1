import Foundation
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// Runs a Python 3 oracle (`script`, reading the files under `directory`) and returns its standard output
/// split into lines.
func pythonOracle(_ script: String, in directory: String) throws -> [String] {
    let path = directory + "/oracle.py"
    try Data(script.utf8).write(to: URL(fileURLWithPath: path))
    let python = Process()
    python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    python.arguments = ["python3", path]
    python.currentDirectoryURL = URL(fileURLWithPath: directory)
    let pipe = Pipe()
    python.standardOutput = pipe
    let errors = directory + "/oracle.err"
    FileManager.default.createFile(atPath: errors, contents: nil)
    python.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
    try python.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    python.waitUntilExit()
    let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
    #expect(python.terminationStatus == 0, "the oracle failed: \(stderr)")
    let text = String(decoding: output, as: UTF8.self)
    return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}

/// Runs a plan on an in-process engine with the given settings (tiny budgets force spills).
func runPlan(
    _ plan: JobPlan, settings: JobSettings, workers: Int = 2, scratch: String
) async throws -> (lines: [String], summary: JobSummary) {
    let engine = try Engine(options: EngineOptions(workers: workers, settings: settings, scratchDirectory: scratch))
    let sink = CollectingSink()
    let summary = try await engine.run(plan, output: sink)
    return (sink.lines, summary)
}

/// The Python side of the number rules: `fmt` is `NumericValue.format`, `parse` is `NumericValue.parse` for
/// sums (integers exact, any size that fits 128 bits; decimals as floats).
let pythonNumberRules = #"""
import os, re, sys
INT = re.compile(r'^[+-]?[0-9]+$')
NUM = re.compile(r'^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$')
def fmt(v):
    if v == round(v) and abs(v) < 9.0e15:
        return str(int(v))
    return repr(v)
def parse(t):
    if INT.match(t):
        return int(t)
    if NUM.match(t):
        return float(t)
    return None
def number_text(v):
    return str(v) if isinstance(v, int) else fmt(v)
def lines_of(directory):
    out = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), 'rb') as f:
            out += f.read().split(b'\n')[:-1]
    return out

"""#

/// Expects equal lines, reporting the first difference (not both lists).
func expectSameLines(_ lines: [String], _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    if lines == expected { return }
    let i = (0..<min(lines.count, expected.count)).first { lines[$0] != expected[$0] } ?? min(lines.count, expected.count)
    let got = i < lines.count ? lines[i].debugDescription : "nothing"
    let wanted = i < expected.count ? expected[i].debugDescription : "nothing"
    Issue.record("\(lines.count) lines, expected \(expected.count); line \(i): \(got), expected \(wanted)", sourceLocation: sourceLocation)
}
