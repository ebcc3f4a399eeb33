package dev.vigil.daemon

import dev.vigil.config.Severity
import dev.vigil.config.model.KeepalivedConfig
import dev.vigil.vrrp.runtime.InstanceParams

/** Runs the package-private {@link InstanceMapper} for specs of other packages. */
class InstanceMapperAccess {

    /** The mapped instances and the diagnostics as formatted lines, errors and warnings apart. */
    static Map map(KeepalivedConfig config, Set<String> vipBackends) {
        def mapper = new InstanceMapper(vipBackends)
        List<InstanceParams> instances = mapper.map(config)
        [instances: instances,
         errors: mapper.diagnostics().findAll { it.severity() == Severity.ERROR }*.format(),
         warnings: mapper.diagnostics().findAll { it.severity() == Severity.WARNING }*.format()]
    }
}
