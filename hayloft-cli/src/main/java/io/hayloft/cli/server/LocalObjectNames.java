package io.hayloft.cli.server;

import io.hayloft.client.HayloftException;
import io.hayloft.client.MetaClient;
import io.hayloft.gateway.ObjectNames;
import io.hayloft.meta.MetaException;
import io.hayloft.meta.raft.ProposalBatcher;
import io.hayloft.meta.server.MetaNode;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.ObjectInfo;
import java.util.List;

/**
 * Object names read and swapped on the meta peer of this process, without an RPC: the
 * one-process server's gateway uses it on its hot path, and announces its PUTs' names to the
 * peer's Raft batches while it stores their bodies. While that peer does not lead (it
 * always does once the single-peer group has started), calls go through the meta client.
 */
final class LocalObjectNames implements ObjectNames {
    private final MetaNode node;
    private final ObjectNames remote;

    LocalObjectNames(MetaNode node, MetaClient meta) {
        this.node = node;
        this.remote = ObjectNames.remote(meta);
    }

    @Override
    public ObjectInfo get(String bucket, String key) {
        try {
            return node.getObject(bucket, key);
        } catch (MetaException e) {
            if (e.code() == ErrorCode.NOT_LEADER) {
                return remote.get(bucket, key);
            }
            throw new HayloftException(e.code(), e.detail(), e);
        }
    }

    @Override
    public List<Chunk> put(ObjectInfo object) {
        return put(object, Announcement.NONE);
    }

    @Override
    public Announcement announcePut() {
        return new Announced(node.announcePut());
    }

    @Override
    public List<Chunk> put(ObjectInfo object, Announcement announcement) {
        try {
            return node.putObject(object, announcement instanceof Announced a ? a.toMeta() : null);
        } catch (MetaException e) {
            if (e.code() == ErrorCode.NOT_LEADER) {
                return remote.put(object);
            }
            throw new HayloftException(e.code(), e.detail(), e);
        }
    }

    /** A name announced to the meta peer's Raft batches. */
    private record Announced(ProposalBatcher.Announcement toMeta) implements Announcement {
        @Override
        public void close() {
            toMeta.close();
        }
    }
}
