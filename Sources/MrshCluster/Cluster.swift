import MrshEngine
import MrshWire
