import Foundation

extension Double {
    /// Rounded to `places` decimals, as a device reports a reading.
    func rounded(places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }

    /// `21` for whole numbers, `21.5` otherwise: for messages people read.
    var compactText: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}

extension Duration {
    /// The duration in seconds, for the simulators' arithmetic.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
