// A mistake: the service name is wrong. Each run fails, located; the third disables the policy.
policy('error-unknown-name') {
    on realServerDown { event ->
        if (service('10.9.0.99:80').healthyCount() < 2) {
            instance('VI_1').lowerPriority(50)
        }
    }
}
