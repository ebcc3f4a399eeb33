// Fail over when fewer than two backends are healthy; take the priority back when they return.
policy('web-capacity') {
    description 'VI_1 gives way when 10.9.0.50:80 has fewer than two healthy real servers'

    on realServerDown { event ->
        if (service('10.9.0.50:80').healthyCount() < 2) {
            instance('VI_1').lowerPriority(50)
        }
    }

    on realServerUp { event ->
        if (service('10.9.0.50:80').healthyCount() >= 2) {
            instance('VI_1').resetPriority()
        }
    }
}
