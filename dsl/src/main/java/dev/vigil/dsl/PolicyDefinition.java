package dev.vigil.dsl;

import java.util.ArrayList;
import java.util.List;

/** What a policy's {@code policy('NAME') { ... }} block declared: its description and handlers. */
final class PolicyDefinition {

    String declaredName;
    String description;
    final List<PolicyTrigger> triggers = new ArrayList<>();
    final List<PolicySchedule> schedules = new ArrayList<>();
}
