import Datasets
import NN

// The data set's mini-batches go to the trainer as they are (Datasets and NN do not know each other).
extension ImageBatch: MiniBatch {}
