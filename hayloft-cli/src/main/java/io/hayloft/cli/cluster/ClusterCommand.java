package io.hayloft.cli.cluster;

import io.hayloft.client.MetaClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The shape of the cluster commands: one call for the cluster status, then a report on it. */
abstract class ClusterCommand implements Callable<Integer> {
    @Mixin
    MetaOptions metaOptions;

    @Spec
    CommandSpec spec;

    /** Prints the report; returns the exit code. */
    abstract int run(ClusterReport report, PrintWriter out);

    @Override
    public final Integer call() {
        ClusterReport report;
        try (MetaClient meta = metaOptions.connect()) {
            report = new ClusterReport(meta.clusterStatus());
        }
        PrintWriter out = spec.commandLine().getOut();
        int code = run(report, out);
        out.flush();
        return code;
    }
}
