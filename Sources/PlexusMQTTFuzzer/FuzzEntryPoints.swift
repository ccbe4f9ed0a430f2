import PlexusMQTT

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer calls this for every input. Always compiled, so the normal build
/// type-checks it; with `-D PLEXUS_FUZZING` libFuzzer also supplies `main`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    FuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if !PLEXUS_FUZZING
/// Without libFuzzer: `PlexusMQTTFuzzer --write-corpus DIR` writes the seed
/// corpus, `PlexusMQTTFuzzer FILE…` replays inputs (e.g. a crash artifact)
/// through the same checks, so a finding can be debugged in a normal build.
@main
struct PlexusMQTTFuzzerMain {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-corpus", arguments.count == 2 {
            let directory = arguments[1]
            for input in try SeedCorpus.inputs() {
                try write(input.bytes, to: directory + "/" + input.name)
            }
            print("wrote \(try SeedCorpus.inputs().count) seed inputs to \(directory)")
            return
        }
        guard !arguments.isEmpty else {
            print("usage: PlexusMQTTFuzzer --write-corpus DIR | PlexusMQTTFuzzer FILE...")
            return
        }
        for path in arguments {
            let bytes = try read(path)
            bytes.withUnsafeBytes { FuzzHarness.run($0) }
            print("ok \(path) (\(bytes.count) bytes)")
        }
    }

    struct FileError: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        guard let file = fopen(path, "wb") else { throw FileError(description: "cannot create \(path)") }
        defer { fclose(file) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == bytes.count else { throw FileError(description: "short write to \(path)") }
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw FileError(description: "cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
#endif
