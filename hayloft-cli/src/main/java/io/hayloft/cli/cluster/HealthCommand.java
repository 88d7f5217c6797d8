package io.hayloft.cli.cluster;

import io.hayloft.cli.Exit;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;

/**
 * {@code hayloft health}: exit 0 when meta has a leader, every store is live and no volume is
 * degraded; else exit 6 and one line per problem.
 */
@Command(name = "health", description = {
    "Check the cluster's health (exit 0 when healthy, 6 and the reasons when not).",
    "Healthy: meta has a leader, every store is live and no volume is degraded."})
public final class HealthCommand extends ClusterCommand {
    @Override
    int run(ClusterReport report, PrintWriter out) {
        List<String> problems = report.problems();
        if (problems.isEmpty()) {
            out.printf("healthy: leader %s, %d stores live, %d volumes%n",
                    report.leader().orElseThrow().getPeerId(), report.liveStores(),
                    report.status().getVolumesCount());
            return Exit.OK;
        }
        out.println("unhealthy: " + String.join("; ", problems));
        return Exit.UNHEALTHY;
    }
}
