/// The engine: see DESIGN §4.
public enum InterpreterModule {}
