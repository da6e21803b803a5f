import CZlib
import Crypto
