package io.hayloft.meta.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaBatchResult;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** How {@link ProposalBatcher} forms batches, against a Raft stand-in whose replies the test gives. */
class ProposalBatcherTest {
    /** The batches handed to Raft, each with its reply still to give. */
    private final List<Sent> sent = new CopyOnWriteArrayList<>();

    private record Sent(MetaBatch batch, CompletableFuture<RaftClientReply> reply) {
        /** Answers every command of the batch with ok. */
        void answer() {
            MetaBatchResult.Builder results = MetaBatchResult.newBuilder();
            for (int i = 0; i < batch.getCommandsCount(); i++) {
                results.addResults(MetaResult.newBuilder().setOk(true));
            }
            reply.complete(RaftClientReply.newBuilder().setClientId(ClientId.randomId())
                    .setServerId(RaftPeerId.valueOf("peer0")).setGroupId(RaftGroupId.randomId()).setCallId(1)
                    .setSuccess(true)
                    .setMessage(Message.valueOf(ByteString.copyFrom(results.build().toByteArray()))).build());
        }
    }

    private ProposalBatcher batcher(Duration linger) {
        return new ProposalBatcher(m -> {
            CompletableFuture<RaftClientReply> reply = new CompletableFuture<>();
            try {
                sent.add(new Sent(MetaBatch.parseFrom(m.getContent().toByteArray()), reply));
            } catch (Exception e) {
                reply.completeExceptionally(e);
            }
            return reply;
        }, 1_000, 1, linger);
    }

    private static MetaCommand command(long n) {
        return MetaCommand.newBuilder().setTimeMs(n).build();
    }

    private static List<CompletableFuture<MetaResult>> submit(ProposalBatcher b, int n) {
        List<CompletableFuture<MetaResult>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            results.add(b.submit(command(i)));
        }
        return results;
    }

    /** Submits {@code n} commands, each using up one of {@code announced}, from the first. */
    private static List<CompletableFuture<MetaResult>> submitAnnounced(ProposalBatcher b, int n,
            List<ProposalBatcher.Announcement> announced) {
        List<CompletableFuture<MetaResult>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            results.add(b.submit(command(i), announced.remove(0)));
        }
        return results;
    }

    private static List<ProposalBatcher.Announcement> announce(ProposalBatcher b, int n) {
        List<ProposalBatcher.Announcement> announced = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            announced.add(b.announce());
        }
        return announced;
    }

    private int batchSize(int i) {
        return sent.get(i).batch().getCommandsCount();
    }

    /** Answers the {@code i}th batch sent and checks that each of {@code results} got its ok. */
    private void answer(int i, List<CompletableFuture<MetaResult>> results) {
        sent.get(i).answer();
        assertThat(results).allSatisfy(f -> assertThat(f.join().getOk()).isTrue());
    }

    /**
     * Sends a batch of one and, while it is in flight, queues {@code size} commands, which leave
     * together when it is answered; answers them too. The largest recent batch is then {@code size}.
     */
    private void recentBatchOf(ProposalBatcher b, int size) {
        int before = sent.size();
        submit(b, 1);
        assertThat(sent).hasSize(before + 1);
        List<CompletableFuture<MetaResult>> queued = submit(b, size);
        assertThat(sent).hasSize(before + 1);
        sent.get(before).answer();
        assertThat(sent).hasSize(before + 2);
        assertThat(batchSize(before + 1)).isEqualTo(size);
        answer(before + 1, queued);
    }

    /** A batcher with the linger given whose largest recent batch was of 16 commands. */
    private ProposalBatcher afterABatchOf16(Duration linger) {
        ProposalBatcher b = batcher(linger);
        recentBatchOf(b, 16);
        return b;
    }

    @Test
    void aLoneCallerIsNeverKeptWaiting() {
        ProposalBatcher b = batcher(Duration.ofHours(1));
        for (int i = 0; i < 5; i++) {
            ProposalBatcher.Announcement announced = b.announce();
            CompletableFuture<MetaResult> r = b.submit(command(i), announced);
            assertThat(sent).as("batches after command %d", i).hasSize(i + 1);
            announced.close();
            answer(i, List.of(r));
        }
    }

    @Test
    void aBatchWaitsForSevenEighthsOfTheLargestRecentOne() {
        ProposalBatcher b = afterABatchOf16(Duration.ofHours(1));
        int before = sent.size();
        List<ProposalBatcher.Announcement> announced = announce(b, 16);
        List<CompletableFuture<MetaResult>> waiting = submitAnnounced(b, 13, announced);
        assertThat(sent).as("13 commands wait for a 14th").hasSize(before);
        waiting.addAll(submitAnnounced(b, 1, announced));
        assertThat(sent).hasSize(before + 1);
        assertThat(batchSize(before)).isEqualTo(14);
        answer(before, waiting);
    }

    @Test
    void aBatchDoesNotWaitForCompanyNobodyAnnounced() {
        ProposalBatcher b = afterABatchOf16(Duration.ofHours(1));
        int before = sent.size();
        List<CompletableFuture<MetaResult>> one = submit(b, 1);
        assertThat(sent).as("one command, not waiting for 13 more").hasSize(before + 1);
        assertThat(batchSize(before)).isEqualTo(1);
        answer(before, one);
    }

    @Test
    void aBatchLeavesOnceNoAnnouncedCommandIsOnItsWay() {
        ProposalBatcher b = afterABatchOf16(Duration.ofHours(1));
        int before = sent.size();
        List<ProposalBatcher.Announcement> announced = announce(b, 4);
        List<CompletableFuture<MetaResult>> few = submitAnnounced(b, 3, announced);
        assertThat(sent).as("3 commands wait for the one still announced").hasSize(before);
        announced.get(0).close();
        assertThat(sent).as("the last announced command will not come").hasSize(before + 1);
        assertThat(batchSize(before)).isEqualTo(3);
        answer(before, few);
    }

    @Test
    void waitingCommandsLeaveWhenTheLingerIsOver() {
        ProposalBatcher b = afterABatchOf16(Duration.ofMillis(50));
        int before = sent.size();
        List<CompletableFuture<MetaResult>> few = submitAnnounced(b, 3, announce(b, 8));
        await().atMost(Duration.ofSeconds(30)).until(() -> sent.size() == before + 1);
        assertThat(batchSize(before)).isEqualTo(3);
        answer(before, few);
    }

    @Test
    void anAnnouncementMadeToAnotherBatcherIsRefused() {
        ProposalBatcher b = batcher(Duration.ofHours(1));
        ProposalBatcher.Announcement elsewhere = batcher(Duration.ofHours(1)).announce();
        assertThatThrownBy(() -> b.submit(command(1), elsewhere)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("another batcher");
        assertThat(sent).isEmpty();
    }

    @Test
    void withoutALingerABatchLeavesAtOnce() {
        ProposalBatcher b = afterABatchOf16(Duration.ZERO);
        int before = sent.size();
        submitAnnounced(b, 1, announce(b, 8));
        assertThat(sent).hasSize(before + 1);
        assertThat(batchSize(before)).isEqualTo(1);
    }

    @Test
    void aFailedBatchFailsItsCallersAndTheNextOneLeaves() {
        ProposalBatcher b = batcher(Duration.ofHours(1));
        CompletableFuture<MetaResult> failed = b.submit(command(1));
        CompletableFuture<MetaResult> next = b.submit(command(2));
        assertThat(sent).hasSize(1);
        sent.get(0).reply().completeExceptionally(new IllegalStateException("no leader"));
        assertThat(failed).isCompletedExceptionally();
        assertThat(sent).hasSize(2);
        answer(1, List.of(next));
    }

    @Test
    void aNegativeLingerIsRefused() {
        assertThatThrownBy(() -> batcher(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("linger");
    }
}
