package io.hayloft.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.it.History.Kind;
import io.hayloft.it.History.Op;
import io.hayloft.it.History.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The checker accepts what a linearizable store may answer and names what it may not. */
class CheckerTest {
    private final List<Op> ops = new ArrayList<>();

    private void put(String key, long value, long start, long end, Outcome outcome) {
        ops.add(new Op("c", Kind.PUT, key, value, start, end, outcome, Set.of(), null));
    }

    private void delete(String key, long start, long end, Outcome outcome) {
        ops.add(new Op("c", Kind.DELETE, key, History.ABSENT, start, end, outcome, Set.of(), null));
    }

    private void get(String key, long value, long start, long end) {
        ops.add(new Op("c", Kind.GET, key, value, start, end, Outcome.OK, Set.of(), null));
    }

    private void list(Set<String> keys, long start, long end) {
        ops.add(new Op("c", Kind.LIST, null, History.ABSENT, start, end, Outcome.OK, keys, null));
    }

    private List<String> anomalies() {
        return new Checker(ops).anomalies();
    }

    @Test
    void readsOfTheLatestOrAConcurrentWriteAreFine() {
        put("k", 1, 0, 10, Outcome.OK);
        get("k", 1, 11, 12);
        put("k", 2, 20, 30, Outcome.OK);
        get("k", 1, 21, 25);  // concurrent with the write of 2
        get("k", 2, 22, 26);
        get("k", 2, 31, 32);
        delete("k", 40, 50, Outcome.OK);
        get("k", 2, 41, 45);
        get("k", History.ABSENT, 51, 52);
        list(Set.of(), 53, 54);
        assertThat(anomalies()).isEmpty();
    }

    @Test
    void anUnknownWriteMayTakeEffectLateOrNever() {
        put("k", 1, 0, 10, Outcome.OK);
        put("k", 2, 20, 30, Outcome.UNKNOWN);
        get("k", 1, 100, 101);
        get("k", 2, 200, 201);  // it took effect after the client gave up
        put("j", 3, 0, 10, Outcome.UNKNOWN);
        get("j", History.ABSENT, 11, 12);
        list(Set.of("k"), 13, 14);
        assertThat(anomalies()).isEmpty();
    }

    @Test
    void aLostAcknowledgedWriteIsFound() {
        put("k", 1, 0, 10, Outcome.OK);
        put("k", 2, 20, 30, Outcome.OK);
        Checker checker = new Checker(ops);
        checker.checkFinalRead(new Op("g0", Kind.GET, "k", 1, 100, 101, Outcome.OK, Set.of(), null));
        checker.checkFinalRead(new Op("g1", Kind.GET, "k", History.ABSENT, 100, 101, Outcome.OK, Set.of(), null));
        assertThat(checker.anomalies()).hasSize(2)
                .anySatisfy(a -> assertThat(a).startsWith("final read returned a replaced value"))
                .anySatisfy(a -> assertThat(a).startsWith("final read found nothing"));
    }

    @Test
    void staleFutureRefusedAndUnwrittenValuesAreFound() {
        put("k", 1, 0, 10, Outcome.OK);
        put("k", 2, 20, 30, Outcome.OK);
        get("k", 1, 31, 32);  // stale
        get("k", 3, 40, 41);  // written after the read
        put("k", 3, 50, 60, Outcome.OK);
        put("k", 4, 70, 80, Outcome.FAILED);
        get("k", 4, 90, 91);  // refused write
        get("k", 99, 92, 93);  // never written
        get("j", 3, 94, 95);  // another key's value
        ops.add(new Op("c", Kind.GET, "k", History.ABSENT, 96, 97, Outcome.DAMAGED, Set.of(), "flipped"));
        assertThat(anomalies()).hasSize(6);
    }

    @Test
    void listsThatMissOrInventKeysAreFound() {
        put("a", 1, 0, 10, Outcome.OK);
        put("b", 2, 0, 10, Outcome.OK);
        delete("b", 20, 30, Outcome.OK);
        list(Set.of("b", "c"), 40, 41);  // misses a, shows deleted b, invents c
        list(Set.of("a", "b"), 21, 22);  // b may still be there while its delete runs
        assertThat(anomalies()).hasSize(3);
    }
}
