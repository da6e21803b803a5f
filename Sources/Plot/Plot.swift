import CCairo
import CLibPNG
