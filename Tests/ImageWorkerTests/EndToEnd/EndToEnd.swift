import TestSupport
import Testing

/// The acceptance tests of issue #5: a real docker-registry with the fixture images, real
/// `image-worker worker` processes (the built binary) and real SQLite files, driven the way
/// another service would drive them: plain SQL INSERTs and the CLI.
///
/// One registry for all of them; serialized, because each test already runs several processes
/// and the machine has two cores. The nested suites live in the other files of this folder.
@Suite("End to end", .serialized, .registry(.plain))
enum EndToEnd {}
