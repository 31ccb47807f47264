import CKernels
import Dispatch
import Foundation
import Model
import Synchronization
import Testing

/// Parallel.forChunks on ck_pool: every index once per region, region after region (workers spinning and
/// sleeping in between), from inside a chunk (run in place) and from several threads at once (one gets the
/// pool, the others Dispatch).
@Suite struct ParallelTests {
    /// Counts of each index of 0..<count after `regions` calls.
    static func counts(count: Int, regions: Int) -> [Int] {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
        hits.initialize(repeating: 0, count: count)
        defer { hits.deallocate() }
        let shared = SendablePointer(hits)
        for _ in 0..<regions {
            Parallel.forChunks(count, minChunk: 1) { range in
                for i in range { shared.pointer[i] += 1 }  // chunks are disjoint: no two threads share an index
            }
        }
        return Array(UnsafeBufferPointer(start: hits, count: count))
    }

    @Test func everyIndexOncePerRegion() {
        #expect(Self.counts(count: 1001, regions: 2000) == Array(repeating: 2000, count: 1001))
        // Workers that sleep after every region (no spin): each region wakes them through the condition
        // variable. Process-wide; other suites only run slower meanwhile.
        ck_pool_set_spin(0)
        defer { ck_pool_set_spin(200) }
        #expect(Self.counts(count: 37, regions: 200) == Array(repeating: 200, count: 37))
    }

    @Test func nestedRegionsRunInPlace() {
        let total = Atomic<Int>(0)
        Parallel.forChunks(64, minChunk: 1) { outer in
            Parallel.forChunks(100, minChunk: 1) { inner in
                total.add(outer.count * inner.count, ordering: .relaxed)
            }
        }
        #expect(total.load(ordering: .relaxed) == 64 * 100)
    }

    @Test func regionsFromSeveralThreadsAtOnce() {
        let results = Mutex<[[Int]]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let c = Self.counts(count: 257, regions: 300)
            results.withLock { $0.append(c) }
        }
        let all = results.withLock { $0 }
        #expect(all.count == 4 && all.allSatisfy { $0 == Array(repeating: 300, count: 257) })
    }
}
