import Interpreter
public enum ActionsModule {}
