import BNReproCLI
import PipelineTestKinds

BNRepro.main(registry: TestKinds.registry)
