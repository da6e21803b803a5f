import BNReproCLI
import Experiments

BNRepro.main(registry: ExperimentKinds.registry)
