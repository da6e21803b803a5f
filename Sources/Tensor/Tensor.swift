import CBLAS
import CDNNL
